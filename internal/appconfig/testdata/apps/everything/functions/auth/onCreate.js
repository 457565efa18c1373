exports = async (user) => { await context.services.get("mongodb-atlas").db("store").collection("customers").insertOne({ user_id: user.id }); };
