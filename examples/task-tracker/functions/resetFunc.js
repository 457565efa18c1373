// The password reset function the seed keeps: it refuses every request,
// so a reset through the SDK's callResetPasswordFunction always fails.
exports = ({ token, tokenId, username, password }) => {
  return { status: "fail" };
};
