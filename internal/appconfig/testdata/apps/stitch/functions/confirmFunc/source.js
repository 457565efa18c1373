exports = ({ token, tokenId, username }) => {
  return { status: username.includes("realm_tests_do_autoverify") ? 'success' : 'pending' };
};
