exports = function(request) {
  return { ok: true, base: context.values.get("apiBase") };
};
