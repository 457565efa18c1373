// Used by the notes rules through %function: the document's owner is the
// calling user.
exports = function (ownerId) {
  return ownerId === context.user.id;
};
