exports = ({ token, tokenId, username, password }) => {
  // The tutorial denies every password reset.
  return { status: 'fail' };
};
