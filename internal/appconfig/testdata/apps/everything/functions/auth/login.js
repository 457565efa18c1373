exports = async (loginPayload) => loginPayload.username;
