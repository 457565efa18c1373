// Returns its arguments unchanged, with the JavaScript type of each.
exports = async function (...args) {
  return { args, types: args.map((a) => (a === null ? "null" : a.constructor ? a.constructor.name : typeof a)) };
};
