// Makes the built-in objects of a fresh runtime immutable where nobody
// legitimately changes them, so that one call cannot leave a change for
// the next (freeze.go). It runs once per runtime, before any user code.
//
// skip are the objects left as they are (the global object and the
// prototypes guard.go compares by identity); they are still walked, so
// their members are hardened. extra are further roots not reachable from
// the global object (errors made in Go): their prototypes are walked.
//
// Every object reachable from the global object through property values,
// accessors and prototype links is
//   - frozen when it is a function (constructors with their statics, every
//     built-in method) or a namespace (JSON, Math, Reflect, Atoll's BSON,
//     EJSON, utils, console, ...);
//   - made non-extensible when it is a prototype, with every property
//     non-configurable and non-writable except the shadowable ones
//     (constructor, toString, ...): instances and ES5-style subclasses
//     assign those, which a non-writable inherited property would forbid
//     (the "override mistake"). Those stay writable and are returned as
//     pins, compared by identity after each call.
//
// It returns [pins (object, key, object, key, ...), prototypes].
(function (skip, extra) {
  'use strict';
  var O = Object, gopn = O.getOwnPropertyNames, gops = O.getOwnPropertySymbols,
    gopd = O.getOwnPropertyDescriptor, dp = O.defineProperty, gpo = O.getPrototypeOf,
    pe = O.preventExtensions, fr = O.freeze;
  var shadow = new Set(['constructor', 'toString', 'toLocaleString', 'valueOf', 'toJSON', 'name', 'message', 'stack']);
  var skipped = new Set(skip), seen = new Set(), protos = new Set(), order = [], queue = [];
  function isObj(v) { return v !== null && (typeof v === 'object' || typeof v === 'function'); }
  function add(v, proto) {
    if (!isObj(v)) return;
    if (proto && typeof v === 'object') protos.add(v);
    if (seen.has(v)) return;
    seen.add(v);
    order.push(v);
    queue.push(v);
  }
  function keys(o) {
    var ks = gopn(o), ss = gops(o);
    for (var i = 0; i < ss.length; i++) ks.push(ss[i]);
    return ks;
  }
  // Objects only reachable through syntax or instances.
  var roots = [globalThis];
  function tryRoot(src) {
    try { roots.push(new Function(src)()); } catch (e) { /* not supported by this engine */ }
  }
  tryRoot('return function* () {}');
  tryRoot('return (function* () {})()');
  tryRoot('return async function () {}');
  tryRoot('return async function* () {}');
  tryRoot('return (async function* () {})()');
  tryRoot('return [][Symbol.iterator]()');
  tryRoot('return new Map().entries()');
  tryRoot('return new Set().values()');
  tryRoot('return ""[Symbol.iterator]()');
  tryRoot('return /a/g[Symbol.matchAll]("")');
  tryRoot('return (function () { return arguments })()');
  for (var r = 0; r < extra.length; r++) add(gpo(extra[r]), true);
  for (var i = 0; i < roots.length; i++) add(roots[i], false);

  while (queue.length) {
    var o = queue.pop();
    add(gpo(o), true);
    var ks = keys(o);
    for (var j = 0; j < ks.length; j++) {
      var d = gopd(o, ks[j]);
      if (d === undefined) continue;
      if ('value' in d) {
        add(d.value, ks[j] === 'prototype' && typeof o === 'function');
      } else {
        add(d.get, false);
        add(d.set, false);
      }
    }
    if (typeof o === 'object' && gopd(o, 'constructor') !== undefined) protos.add(o);
  }

  var pins = [], protoList = [];
  for (var n = 0; n < order.length; n++) {
    var x = order[n];
    // Instances made as roots are thrown away (and an error made in Go
    // cannot be frozen): only what they lead to matters.
    if (skipped.has(x) || (roots.indexOf(x) >= 0 && typeof x === 'object' && !protos.has(x))) continue;
    if (typeof x === 'function' || !protos.has(x)) {
      fr(x);
      continue;
    }
    protoList.push(x);
    var pk = keys(x);
    for (var m = 0; m < pk.length; m++) {
      var k = pk[m], pd = gopd(x, k);
      if ('value' in pd && pd.writable && typeof k === 'string' && shadow.has(k)) {
        if (pd.configurable) dp(x, k, { configurable: false });
        pins.push(x, k);
      } else if ('value' in pd) {
        dp(x, k, { writable: false, configurable: false });
      } else if (pd.configurable) {
        dp(x, k, { configurable: false });
      }
    }
    pe(x);
  }
  return [pins, protoList];
})
