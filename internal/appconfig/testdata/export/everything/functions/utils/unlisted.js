// A helper that was never put in the manifest.
exports = () => "unlisted";
