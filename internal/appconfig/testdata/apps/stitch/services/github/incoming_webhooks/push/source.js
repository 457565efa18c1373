exports = function(payload) {
  return payload.query.arg;
};
