exports = async function({ query, headers, body }, response) {
  const { message } = JSON.parse(body.text());
  response.setStatusCode(201);
  return { received: message, sid: context.values.get("TWILIO_AUTH_TOKEN") ? "set" : "unset" };
};
