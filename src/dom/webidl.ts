// WebIDL's JavaScript binding, as far as isosocket's browser-facing classes
// need it: interface objects whose prototype holds every attribute,
// operation and constant itself (nothing further up the chain but the
// inherited interface's), constants that cannot be changed, `@@toStringTag`,
// argument counts, and the conversions the constructors use. A pure module.
//
// Why an interface object apart from the implementation class: WebIDL puts
// `url`, `send` and the constants on `WebSocket.prototype`, whose prototype is
// `EventTarget.prototype`. isosocket's client and server share one
// implementation (src/websocket/base.ts), whose private state only exists on
// objects its constructors made. So the interface object constructs through
// the implementation (`Reflect.construct(implementation, args, new.target)`:
// the object gets every private field, and the interface's prototype), and
// its prototype holds copies of the implementation's accessors and methods,
// which work on any object carrying those private fields.
//
// References:
// - WebIDL, ECMAScript binding: https://webidl.spec.whatwg.org/#ecmascript-binding
//   (interface objects §3.7.1, interface prototype objects §3.7.3, constants
//   §3.7.5, attributes §3.7.6, operations §3.7.7, @@toStringTag §3.7.3)
// - WebIDL, overload resolution: too few arguments is a TypeError
// - web-platform-tests resources/idlharness.js (what the checks look for)

/** What WebIDL says of one interface. */
export interface InterfaceShape {
  /** The interface's name: the interface object's `name` and the prototype's `@@toStringTag`. */
  readonly name: string;
  /** The constructor's `length`: how many arguments it requires. */
  readonly length: number;
  /** Constants, set on the interface object and its prototype, read-only and permanent. */
  readonly constants?: Readonly<Record<string, number>>;
  /** Regular attributes and operations: enumerable, as WebIDL makes them. */
  readonly members: readonly string[];
  /** The prototype's `@@toStringTag`, when it is not the name. */
  readonly toStringTag?: string;
  /**
   * Operations whose `length` (the arguments they require) is not what the
   * method's declaration gives: TypeScript's optional parameters count in
   * `Function.length`, WebIDL's optional arguments do not.
   */
  readonly lengths?: Readonly<Record<string, number>>;
}

// biome-ignore lint/suspicious/noExplicitAny: any constructor
type Constructor = abstract new (...args: any[]) => object;

/**
 * Makes the interface object for `implementation`: a constructor named
 * `shape.name` that builds through the implementation, whose prototype
 * inherits from `parent.prototype` directly and holds a copy of every
 * accessor and method of the implementation's prototype chain below
 * `parent.prototype`. Deleting one there removes it: nothing further up
 * supplies it.
 *
 * The implementation's own prototype is left as it is; objects made through
 * the interface object never see it.
 *
 * @see https://webidl.spec.whatwg.org/#interface-object
 */
export function defineInterface<C extends Constructor>(
  implementation: C,
  parent: Constructor,
  shape: InterfaceShape,
): C {
  const { name } = shape;
  // 3.7.1: the interface object throws when called without `new`, and
  // otherwise runs the constructor steps on an object made for new.target.
  const Interface = function (this: unknown, ...args: unknown[]): object {
    if (new.target === undefined) {
      throw new TypeError(
        `Failed to construct '${name}': Please use the 'new' operator, this DOM object constructor cannot be called as a function.`,
      );
    }
    return Reflect.construct(implementation, args, new.target) as object;
  };
  Object.defineProperty(Interface, 'name', { value: name, configurable: true });
  Object.defineProperty(Interface, 'length', { value: shape.length, configurable: true });

  // 3.7.3: the interface prototype object, whose [[Prototype]] is the
  // inherited interface's prototype object.
  const prototype = Object.create(parent.prototype) as Record<PropertyKey, unknown>;
  const members = new Set<PropertyKey>(shape.members);
  for (
    let source = implementation.prototype as object | null;
    source !== null && source !== parent.prototype;
    source = Object.getPrototypeOf(source) as object | null
  ) {
    for (const key of Reflect.ownKeys(source)) {
      if (key === 'constructor' || Object.hasOwn(prototype, key)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(source, key) as PropertyDescriptor;
      // 3.7.6, 3.7.7: regular attributes and operations are enumerable.
      if (members.has(key)) descriptor.enumerable = true;
      Object.defineProperty(prototype, key, descriptor);
    }
  }
  for (const member of members) {
    if (!Object.hasOwn(prototype, member)) throw new Error(`${name}.prototype has no member ${String(member)}`);
  }
  defineLengths(prototype, shape.lengths);
  defineConstants(Interface, prototype, shape.constants);
  Object.defineProperty(prototype, 'constructor', {
    value: Interface,
    writable: true,
    enumerable: false,
    configurable: true,
  });
  defineToStringTag(prototype, shape.toStringTag ?? name);
  Object.defineProperty(Interface, 'prototype', {
    value: prototype,
    writable: false,
    enumerable: false,
    configurable: false,
  });
  // 3.7.1: the interface object's [[Prototype]] is the inherited interface object.
  Object.setPrototypeOf(Interface, parent);
  return Interface as unknown as C;
}

/**
 * Gives a class that already is its own interface (its prototype inherits
 * from the parent interface's directly) WebIDL's property attributes:
 * enumerable members, permanent constants, `@@toStringTag`, and the name.
 */
export function shapeInterface(interfaceObject: Constructor, shape: InterfaceShape): void {
  const prototype = interfaceObject.prototype as object;
  for (const member of shape.members) {
    const descriptor = Object.getOwnPropertyDescriptor(prototype, member);
    if (descriptor === undefined) throw new Error(`${shape.name}.prototype has no member ${member}`);
    Object.defineProperty(prototype, member, { ...descriptor, enumerable: true });
  }
  defineLengths(prototype, shape.lengths);
  defineConstants(interfaceObject, prototype, shape.constants);
  defineToStringTag(prototype, shape.toStringTag ?? shape.name);
  Object.defineProperty(interfaceObject, 'name', { value: shape.name, configurable: true });
  Object.defineProperty(interfaceObject, 'length', { value: shape.length, configurable: true });
}

/** 3.7.3: `@@toStringTag` on the prototype, so that `String(object)` is `[object Name]`. */
export function defineToStringTag(prototype: object, name: string): void {
  Object.defineProperty(prototype, Symbol.toStringTag, {
    value: name,
    writable: false,
    enumerable: false,
    configurable: true,
  });
}

/** 3.7.7: an operation's `length` is the number of arguments it requires. */
function defineLengths(prototype: object, lengths: Readonly<Record<string, number>> | undefined): void {
  if (lengths === undefined) return;
  for (const [operation, length] of Object.entries(lengths)) {
    const method = (prototype as Record<string, unknown>)[operation];
    if (typeof method !== 'function') throw new Error(`No operation ${operation} to give a length`);
    Object.defineProperty(method, 'length', { value: length, configurable: true });
  }
}

/** 3.7.5: constants are { writable: false, enumerable: true, configurable: false }. */
function defineConstants(
  interfaceObject: object,
  prototype: object,
  constants: Readonly<Record<string, number>> | undefined,
): void {
  if (constants === undefined) return;
  for (const [key, value] of Object.entries(constants)) {
    const descriptor = { value, writable: false, enumerable: true, configurable: false };
    for (const target of [interfaceObject, prototype]) {
      // A class field or getter of the same name goes first (it is configurable).
      delete (target as Record<string, unknown>)[key];
      Object.defineProperty(target, key, descriptor);
    }
  }
}

/**
 * WebIDL's overload resolution: fewer arguments than the operation requires
 * is a TypeError, whatever their values.
 *
 * @param what `"construct 'WebSocket'"` or `"execute 'send' on 'WebSocket'"`.
 */
export function requireArguments(given: number, required: number, what: string): void {
  if (given >= required) return;
  throw new TypeError(
    `Failed to ${what}: ${required} argument${required === 1 ? '' : 's'} required, but only ${given} present.`,
  );
}

/** WebIDL's conversion to DOMString (and USVString, whose lone surrogates the URL parser replaces). */
export function toDOMString(value: unknown, what: string): string {
  if (typeof value === 'symbol') throw new TypeError(`${what}: a Symbol cannot be converted to a string.`);
  return String(value);
}
