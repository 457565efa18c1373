// The BSON classes of the function runtime. h holds the Go helpers; the
// result is frozen by the caller. Instances carry their type in the
// non-enumerable _bsontype (on the prototype), which is how Go recognises
// them when converting back.
(function (h) {
  'use strict';
  function hidden(o, k, v) { Object.defineProperty(o, k, { value: v, enumerable: false, writable: false, configurable: false }); }
  function tag(C, t) { hidden(C.prototype, '_bsontype', t); }

  function ObjectId(id) {
    if (!(this instanceof ObjectId)) return new ObjectId(id);
    if (id === undefined || id === null) id = h.newObjectId();
    else if (id instanceof ObjectId) id = id._hex;
    else id = h.objectIdHex(String(id));
    hidden(this, '_hex', id);
  }
  tag(ObjectId, 'ObjectId');
  ObjectId.prototype.toString = function () { return this._hex; };
  ObjectId.prototype.toHexString = function () { return this._hex; };
  ObjectId.prototype.toJSON = function () { return this._hex; };
  ObjectId.prototype.equals = function (o) {
    if (o === null || o === undefined) return false;
    return (o instanceof ObjectId ? o._hex : String(o).toLowerCase()) === this._hex;
  };
  ObjectId.prototype.getTimestamp = function () { return new Date(parseInt(this._hex.slice(0, 8), 16) * 1000); };
  ObjectId.isValid = function (s) { try { new ObjectId(s); return true; } catch (e) { return false; } };
  ObjectId.createFromHexString = function (s) { return new ObjectId(s); };
  ObjectId.createFromTime = function (t) { return new ObjectId(h.objectIdFromTime(t)); };
  ObjectId.generate = function () { return h.newObjectId(); };

  function Long(low, high) {
    if (!(this instanceof Long)) return new Long(low, high);
    hidden(this, '_s', high === undefined ? h.longString(low) : h.longFromBits(low | 0, high | 0));
  }
  tag(Long, 'Long');
  Long.prototype.toString = function () { return this._s; };
  Long.prototype.toNumber = function () { return Number(this._s); };
  Long.prototype.valueOf = function () { return Number(this._s); };
  Long.prototype.toInt = function () { return Number(this._s) | 0; };
  Long.prototype.toJSON = function () { return Number(this._s); };
  Long.prototype.equals = function (o) { return o !== null && o !== undefined && String(o) === this._s; };
  Long.fromNumber = function (n) { return new Long(n); };
  Long.fromString = function (s) { return new Long(String(s)); };
  Long.fromInt = function (n) { return new Long(n | 0); };
  Long.fromBits = function (lo, hi) { return new Long(lo, hi); };

  function Int32(v) {
    if (!(this instanceof Int32)) return new Int32(v);
    hidden(this, 'value', Number(v) | 0);
  }
  tag(Int32, 'Int32');
  Int32.prototype.valueOf = function () { return this.value; };
  Int32.prototype.toString = function () { return String(this.value); };
  Int32.prototype.toJSON = function () { return this.value; };

  function Double(v) {
    if (!(this instanceof Double)) return new Double(v);
    hidden(this, 'value', Number(v));
  }
  tag(Double, 'Double');
  Double.prototype.valueOf = function () { return this.value; };
  Double.prototype.toString = function () { return String(this.value); };
  Double.prototype.toJSON = function () { return this.value; };

  function Decimal128(s) {
    if (!(this instanceof Decimal128)) return new Decimal128(s);
    hidden(this, '_s', h.decimalString(String(s)));
  }
  tag(Decimal128, 'Decimal128');
  Decimal128.prototype.toString = function () { return this._s; };
  Decimal128.prototype.toJSON = function () { return { $numberDecimal: this._s }; };
  Decimal128.fromString = function (s) { return new Decimal128(s); };

  // Binary keeps its bytes base64-encoded; Go decodes them when needed.
  function Binary(buffer, subType) {
    if (!(this instanceof Binary)) return new Binary(buffer, subType);
    var b64 = '';
    if (buffer instanceof Binary) b64 = buffer._b64;
    else if (typeof buffer === 'string') b64 = h.textToBase64(buffer);
    else if (buffer !== undefined && buffer !== null) b64 = h.bytesToBase64(buffer);
    hidden(this, '_b64', b64);
    hidden(this, 'sub_type', subType === undefined ? 0 : subType | 0);
  }
  tag(Binary, 'Binary');
  Binary.prototype.toBase64 = function () { return this._b64; };
  Binary.prototype.toHex = function () { return h.base64ToHex(this._b64); };
  Binary.prototype.text = function () { return h.base64ToText(this._b64); };
  Binary.prototype.toString = function (enc) {
    if (enc === 'hex') return this.toHex();
    if (enc === 'base64') return this._b64;
    return this.text();
  };
  Binary.prototype.length = function () { return h.base64Len(this._b64); };
  Binary.prototype.toJSON = function () { return this._b64; };
  Binary.fromBase64 = function (s, t) { var b = Object.create(Binary.prototype); hidden(b, '_b64', h.checkBase64(s)); hidden(b, 'sub_type', t === undefined ? 0 : t | 0); return b; };
  Binary.fromHex = function (s, t) { return Binary.fromBase64(h.hexToBase64(s), t); };
  Binary.fromText = function (s) { return new Binary(String(s)); };

  function Timestamp(a, b) {
    if (!(this instanceof Timestamp)) return new Timestamp(a, b);
    var t = 0, i = 0;
    if (a !== null && typeof a === 'object') { t = a.t >>> 0; i = a.i >>> 0; }
    else { i = a >>> 0; t = b >>> 0; } // js-bson order: (low = increment, high = time)
    hidden(this, 't', t);
    hidden(this, 'i', i);
  }
  tag(Timestamp, 'Timestamp');
  Timestamp.prototype.toString = function () { return 'Timestamp(' + this.t + ', ' + this.i + ')'; };
  Timestamp.prototype.getHighBits = function () { return this.t; };
  Timestamp.prototype.getLowBits = function () { return this.i; };
  Timestamp.prototype.toJSON = function () { return { $timestamp: { t: this.t, i: this.i } }; };

  function BSONRegExp(pattern, options) {
    if (!(this instanceof BSONRegExp)) return new BSONRegExp(pattern, options);
    hidden(this, 'pattern', String(pattern));
    hidden(this, 'options', options === undefined ? '' : String(options).split('').sort().join(''));
  }
  tag(BSONRegExp, 'BSONRegExp');
  BSONRegExp.prototype.toString = function () { return '/' + this.pattern + '/' + this.options; };

  function MinKey() { if (!(this instanceof MinKey)) return new MinKey(); }
  tag(MinKey, 'MinKey');
  function MaxKey() { if (!(this instanceof MaxKey)) return new MaxKey(); }
  tag(MaxKey, 'MaxKey');

  var classes = [ObjectId, Long, Int32, Double, Decimal128, Binary, Timestamp, BSONRegExp, MinKey, MaxKey];
  for (var k = 0; k < classes.length; k++) { Object.freeze(classes[k].prototype); Object.freeze(classes[k]); }
  return Object.freeze({
    ObjectId: ObjectId, ObjectID: ObjectId, Long: Long, Int32: Int32, Double: Double,
    Decimal128: Decimal128, Binary: Binary, Timestamp: Timestamp, BSONRegExp: BSONRegExp,
    MinKey: MinKey, MaxKey: MaxKey
  });
})
