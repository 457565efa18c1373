// Plans how to make the built-in objects of a runtime immutable where
// nobody legitimately changes them, so that one call cannot leave a
// change for the next (freeze.go). It runs once per process, on a fresh
// runtime, and only reads: walking every built-in in JavaScript costs
// milliseconds, so freeze.go replays the plan on each new runtime from Go.
//
// objs are the roots (the global object, then objects only reachable
// through syntax or instances); protoRoots are further prototypes (of
// errors made in Go). skip are the objects left as they are (the global
// object and the prototypes guard.go compares by identity); they are
// still walked, so their members are hardened.
//
// Every object reachable from the roots through property values,
// accessors and prototype links is
//   - frozen when it is a function (constructors with their statics, every
//     built-in method) or any other object (JSON, Math, Reflect, Atoll's
//     BSON, EJSON, utils, console, ...);
//   - made non-extensible when it is a prototype (of a global constructor,
//     or reached as the prototype of another object), with every property
//     non-configurable and non-writable except the shadowable ones
//     (toString, valueOf, toJSON, ..., the Error prototypes' name and
//     message, Error.prototype.constructor; none on the prototypes of
//     primitives and typed arrays): instances and ES5-style subclasses
//     assign those, which a non-writable inherited property would forbid
//     (the "override mistake"). Those stay writable and are pinned:
//     compared by identity after each call.
//
// It returns, per object in walk order: parent (index, or -1 for a root),
// kind ('d' data property, 'g' getter, 's' setter, 'p' prototype, 'r'
// root, 'q' proto root), key (a property name, "@@name" for the
// well-known Symbol.name, or the root's index), action (0 leave, 1
// freeze, 2 prototype) and, for prototypes, [key, mode, ...] with mode
// 0 pin, 1 read-only, 2 accessor made non-configurable.
(function (objs, protoRoots, skip) {
  'use strict';
  var O = Object, gopn = O.getOwnPropertyNames, gops = O.getOwnPropertySymbols,
    gopd = O.getOwnPropertyDescriptor, gpo = O.getPrototypeOf;
  var shadow = new Set(['constructor', 'toString', 'toLocaleString', 'valueOf', 'toJSON', 'name', 'message', 'stack']);
  var wellKnown = new Map();
  gopn(Symbol).forEach(function (n) { if (typeof Symbol[n] === 'symbol') wellKnown.set(Symbol[n], '@@' + n); });
  var skipped = new Set(skip), index = new Map(), protos = new Set(), rootObjs = new Set(objs);
  var parent = [], kind = [], key = [], order = [];
  function isObj(v) { return v !== null && (typeof v === 'object' || typeof v === 'function'); }
  function keyName(k) {
    if (typeof k === 'string') return k;
    var n = wellKnown.get(k);
    if (n === undefined) throw new TypeError('harden: unknown symbol key ' + String(k));
    return n;
  }
  function add(v, proto, p, kd, k) {
    if (!isObj(v)) return;
    if (proto && typeof v === 'object') protos.add(v);
    if (index.has(v)) return;
    index.set(v, order.length);
    order.push(v);
    parent.push(p);
    kind.push(kd);
    key.push(k);
  }
  var ctors = new Set(), gnames = gopn(globalThis);
  for (var c = 0; c < gnames.length; c++) {
    var gd = gopd(globalThis, gnames[c]);
    if (gd && typeof gd.value === 'function' && /^[A-Z]/.test(gnames[c])) ctors.add(gd.value);
  }
  for (var i = 0; i < objs.length; i++) add(objs[i], false, -1, 'r', String(i));
  for (var r = 0; r < protoRoots.length; r++) add(protoRoots[r], true, -1, 'q', String(r));
  for (var n = 0; n < order.length; n++) {
    var o = order[n];
    add(gpo(o), true, n, 'p', '');
    var ks = gopn(o), ss = gops(o);
    for (var s = 0; s < ss.length; s++) ks.push(ss[s]);
    for (var j = 0; j < ks.length; j++) {
      var d = gopd(o, ks[j]);
      if (d === undefined) continue;
      var kn = keyName(ks[j]);
      if ('value' in d) {
        add(d.value, ks[j] === 'prototype' && ctors.has(o), n, 'd', kn);
      } else {
        add(d.get, false, n, 'g', kn);
        add(d.set, false, n, 's', kn);
      }
    }
  }
  var noPins = new Set([Number.prototype, Boolean.prototype, Symbol.prototype, gpo(Uint8Array.prototype)]);
  if (typeof BigInt === 'function') noPins.add(BigInt.prototype);
  var action = [], protoKeys = [];
  for (var m = 0; m < order.length; m++) {
    var x = order[m], pk = [];
    // Instances made as roots are thrown away: only what they lead to
    // matters.
    if (skipped.has(x) || (rootObjs.has(x) && typeof x === 'object' && !protos.has(x))) {
      action.push(0);
    } else if (typeof x === 'function' || !protos.has(x)) {
      action.push(1);
    } else {
      action.push(2);
      // constructor is assigned by ES5-style subclasses, in practice of
      // Error only; on other prototypes it is made read-only. The
      // prototypes of primitives and typed arrays pin nothing: nobody
      // assigns toString to a number or a byte array.
      var isError = x === Error.prototype;
      var pinNone = noPins.has(x);
      var xk = gopn(x), xs = gops(x);
      for (var t = 0; t < xs.length; t++) xk.push(xs[t]);
      for (var u = 0; u < xk.length; u++) {
        var k = xk[u], pd = gopd(x, k);
        if ('value' in pd && pd.writable && typeof k === 'string' && shadow.has(k) && !pinNone && (k !== 'constructor' || isError)) pk.push(k, 0);
        else if ('value' in pd) pk.push(keyName(k), 1);
        else pk.push(keyName(k), 2);
      }
    }
    protoKeys.push(pk);
  }
  return [parent, kind, key, action, protoKeys];
})
