exports = function(error, changeEvent) { console.error(error); };
