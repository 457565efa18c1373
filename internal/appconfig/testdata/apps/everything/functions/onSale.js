exports = function(changeEvent) { console.log(changeEvent.operationType); };
