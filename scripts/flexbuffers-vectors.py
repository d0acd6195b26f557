#!/usr/bin/env python3
"""Writes Tests/FlexBuffersTests/ReferenceVectors.swift: FlexBuffers byte sequences made by Google's
reference Python builder (`pip install flatbuffers`, module flatbuffers.flexbuffers), each with the
FlexValue it holds and which FlexBuffersEncoder settings (with shareKeys: false) must reproduce it
byte for byte.

    python3 -m venv /tmp/fb && /tmp/fb/bin/pip install flatbuffers
    /tmp/fb/bin/python scripts/flexbuffers-vectors.py > Tests/FlexBuffersTests/ReferenceVectors.swift
"""
import math
import struct
import sys

import flatbuffers
from flatbuffers import flexbuffers as fx

Type = fx.Type


class U:
    """An unsigned integer (Python ints are written as signed by the builder's Add)."""
    def __init__(self, v): self.v = v


class TV:
    """A typed vector of scalars (flexbuffers TypedVector): 'int', 'uint', 'float' or 'bool'."""
    def __init__(self, kind, items): self.kind, self.items = kind, items


class FTV:
    """A fixed-length typed vector of 2, 3 or 4 numbers; byte_width 0 lets the builder choose."""
    def __init__(self, kind, items, byte_width=0): self.kind, self.items, self.byte_width = kind, items, byte_width


class Indirect:
    """An indirect int, uint or float (stored behind an offset)."""
    def __init__(self, kind, v): self.kind, self.v = kind, v


class Wide:
    """A scalar written at a given byte width, whether or not it needs it."""
    def __init__(self, kind, v, byte_width): self.kind, self.v, self.byte_width = kind, v, byte_width

    def is_natural(self):
        """True when the width is the one the builder would choose by itself."""
        if self.kind == 'float':
            try:
                natural = 4 if f32(self.v) == self.v else 8
            except OverflowError:  # beyond f32: Python's builder cannot size it, Rust's picks 64 bits
                natural = 8
        elif self.kind == 'int':
            natural = 1 << fx.BitWidth.I(self.v)
        else:
            natural = 1 << fx.BitWidth.U(self.v)
        return natural == self.byte_width


class Key:
    """A key used as a value (the builder's Key outside a map)."""
    def __init__(self, s): self.s = s


def add(fbb, spec):
    if spec is None:
        fbb.Null()
    elif isinstance(spec, bool):
        fbb.Bool(spec)
    elif isinstance(spec, int):
        fbb.Int(spec)
    elif isinstance(spec, U):
        fbb.UInt(spec.v)
    elif isinstance(spec, float):
        fbb.Float(spec)
    elif isinstance(spec, str):
        fbb.String(spec)
    elif isinstance(spec, bytes):
        fbb.Blob(spec)
    elif isinstance(spec, list):
        with fbb.Vector():
            for e in spec:
                add(fbb, e)
    elif isinstance(spec, dict):
        with fbb.Map():
            for k, v in spec.items():
                fbb.Key(k.encode('utf-8'))
                add(fbb, v)
    elif isinstance(spec, TV):
        with fbb.TypedVector():
            for e in spec.items:
                add(fbb, U(e) if spec.kind == 'uint' else e)
    elif isinstance(spec, FTV):
        element_type = {'int': Type.INT, 'uint': Type.UINT, 'float': Type.FLOAT}[spec.kind]
        fbb.FixedTypedVectorFromElements(spec.items, element_type=element_type, byte_width=spec.byte_width)
    elif isinstance(spec, Indirect):
        {'int': fbb.IndirectInt, 'uint': fbb.IndirectUInt, 'float': fbb.IndirectFloat}[spec.kind](spec.v)
    elif isinstance(spec, Wide):
        {'int': fbb.Int, 'uint': fbb.UInt, 'float': fbb.Float}[spec.kind](spec.v, spec.byte_width)
    elif isinstance(spec, Key):
        fbb.Key(spec.s)
    else:
        raise TypeError(spec)


def build(spec):
    # Key sharing off: the Python builder's key pool inserts new keys at index -1, so it loses its
    # order and finds some repeated keys but not others. With it off the layout is deterministic
    # (FlexBuffersEncoder(shareKeys: false)); the Rust vectors cover shared keys.
    fbb = fx.Builder(share_keys=False)
    add(fbb, spec)
    return bytes(fbb.Finish())


def swift_string(s):
    out = '"'
    for ch in s:
        if ch in '"\\':
            out += '\\' + ch
        elif ch == '\n':
            out += '\\n'
        elif 0x20 <= ord(ch) < 0x7f:
            out += ch
        else:
            out += '\\u{%x}' % ord(ch)
    return out + '"'


def swift_double(x):
    if math.isinf(x):
        return '.infinity' if x > 0 else '-.infinity'
    return repr(x)


def f32(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]


def swift_value(spec, kind=None):
    """The FlexValue the decoder must return for spec; kind overrides scalar kind in typed vectors."""
    if spec is None:
        return '.null'
    if isinstance(spec, bool):
        return '.bool(%s)' % ('true' if spec else 'false')
    if isinstance(spec, int):
        if kind == 'uint':
            return '.uint(%d)' % spec
        if kind == 'float':
            return '.double(%s)' % swift_double(float(spec))
        return '.int(%d)' % spec
    if isinstance(spec, U):
        return '.uint(%d)' % spec.v
    if isinstance(spec, float):
        return '.double(%s)' % swift_double(spec)
    if isinstance(spec, str):
        return '.string(%s)' % swift_string(spec)
    if isinstance(spec, bytes):
        return '.blob([%s])' % ', '.join('0x%02x' % b for b in spec)
    if isinstance(spec, list):
        return '.vector([%s])' % ', '.join(swift_value(e) for e in spec)
    if isinstance(spec, dict):
        return '.map([%s])' % ', '.join('(%s, %s)' % (swift_string(k), swift_value(v)) for k, v in spec.items())
    if isinstance(spec, TV):
        return '.vector([%s])' % ', '.join(swift_value(e, spec.kind) for e in spec.items)
    if isinstance(spec, FTV):
        if spec.kind == 'float' and spec.byte_width == 4:
            return '.vector([%s])' % ', '.join('.double(%s)' % swift_double(f32(e)) for e in spec.items)
        return '.vector([%s])' % ', '.join(swift_value(e, spec.kind) for e in spec.items)
    if isinstance(spec, Indirect):
        return swift_value(spec.v, spec.kind)
    if isinstance(spec, Wide):
        if spec.kind == 'float' and spec.byte_width == 4:
            return '.double(%s)' % swift_double(f32(spec.v))
        return swift_value(spec.v, spec.kind)
    if isinstance(spec, Key):
        return '.string(%s)' % swift_string(spec.s)
    raise TypeError(spec)


def scalar_kind(e):
    if isinstance(e, bool):
        return 'bool'
    if isinstance(e, int):
        return 'int'
    if isinstance(e, U):
        return 'uint'
    if isinstance(e, float):
        return 'float'
    return None


def reproduced_by(spec):
    """Which FlexBuffersEncoder.VectorTyping settings lay spec out exactly as the builder did."""
    untyped, typed = True, True

    def visit(s):
        nonlocal untyped, typed
        if isinstance(s, (Indirect, Key)) or (isinstance(s, Wide) and not s.is_natural()):
            untyped = typed = False
        elif isinstance(s, list):
            kinds = {scalar_kind(e) for e in s}
            if s and len(kinds) == 1 and None not in kinds:
                typed = False  # the typed encoder would write this one typed
            for e in s:
                visit(e)
        elif isinstance(s, dict):
            for v in s.values():
                visit(v)
        elif isinstance(s, TV):
            untyped = False
            if not s.items or (s.kind != 'bool' and 2 <= len(s.items) <= 4):
                typed = False
        elif isinstance(s, FTV):
            untyped = False
            if s.byte_width:
                typed = False

    visit(spec)
    return [m for m, ok in (('.never', untyped), ('.homogeneousScalars', typed)) if ok]


EXEC_REQUEST = {
    'id': '6b1e0b8c-5f29-4c7c-9a43-0f5d2c1e9a77',
    'component': 'Exec',
    'payload': {
        'activityId': 'a1b2c3',
        'batchId': 'batch-7',
        'exeScript': [
            {'deploy': {}},
            {'start': {'args': []}},
            {'run': {'entry_point': '/bin/echo', 'args': ['hello']}},
        ],
        'timeout': 5.0,
    },
}

BATCH_RESULTS_REPLY = {
    'id': '6b1e0b8c-5f29-4c7c-9a43-0f5d2c1e9a77',
    'payload': [
        {'index': U(0), 'eventDate': '2026-05-01T12:00:00.000000Z', 'result': 'Ok', 'stdout': None,
         'stderr': None, 'message': None, 'isBatchFinished': False},
        {'index': U(1), 'eventDate': '2026-05-01T12:00:01.500000Z', 'result': 'Ok', 'stdout': 'hello\n',
         'stderr': None, 'message': None, 'isBatchFinished': True},
    ],
}

CASES = [
    ('null', None),
    ('true', True),
    ('false', False),
    ('int zero', 0),
    ('int 127', 127),
    ('int 128 needs 16 bits', 128),
    ('int -1', -1),
    ('int -128', -128),
    ('int -129 needs 16 bits', -129),
    ('int 32768 needs 32 bits', 32768),
    ('int -2^31-1 needs 64 bits', -2**31 - 1),
    ('int max', 2**63 - 1),
    ('int min', -2**63),
    ('uint 255', U(255)),
    ('uint 256 needs 16 bits', U(256)),
    ('uint 65536 needs 32 bits', U(65536)),
    ('uint 2^32 needs 64 bits', U(2**32)),
    ('uint max', U(2**64 - 1)),
    ('float 1.5 fits 32 bits', 1.5),
    ('float 0.1 needs 64 bits', 0.1),
    ('float -0.0', -0.0),
    ('float 1e300', Wide('float', 1e300, 8)),
    ('float infinity', math.inf),
    ('float f32 max', f32(3.4028234663852886e38)),
    ('float 0.1 forced to 32 bits', Wide('float', 0.1, 4)),
    ('int 1 forced to 64 bits', Wide('int', 1, 8)),
    ('uint 7 forced to 16 bits', Wide('uint', 7, 2)),
    ('string empty', ''),
    ('string ascii', 'hello'),
    ('string utf8', 'h\u00e9llo \u2713 \U0001F680'),
    ('string 300 bytes', 'x' * 300),
    ('blob empty', b''),
    ('blob bytes', b'\x00\x01\xfe\xff'),
    ('blob 300 bytes', bytes(range(256)) + bytes(44)),
    ('vector empty', []),
    ('vector mixed', [1, 'a', None, True, 2.5, U(3)]),
    ('vector nested', [[1, 'x'], ['y', [None]], []]),
    ('vector of ints untyped', [1, 2, 3]),
    ('vector wide element', [1, 2**40, 'x']),
    ('vector of 300 strings', ['s%d' % i for i in range(300)]),
    ('map empty', {}),
    ('map sorted by key bytes', {'b': 1, 'a': 2, 'B': 3, '_': 4, 'aa': 5}),
    ('map utf8 keys', {'\u043a\u043b\u044e\u0447': 1, 'z': 2, '\u00e9': 3}),
    ('map nested', {'outer': {'inner': {'leaf': 'v'}}, 'list': [{'k': 1}, {'k': 2}]}),
    ('maps sharing keys', [{'id': 1, 'name': 'a'}, {'id': 2, 'name': 'b'}]),
    ('typed vector int', TV('int', [1, -2, 300, 4, 5])),
    ('typed vector uint', TV('uint', [1, 2, 3, 4, 70000])),
    ('typed vector float', TV('float', [1.5, 2.5, 0.1, -4.0, 5.0])),
    ('typed vector bool', TV('bool', [True, False, True])),
    ('typed vector int of one', TV('int', [7])),
    ('typed vector empty', TV('int', [])),
    ('fixed vector int2', FTV('int', [1, -1])),
    ('fixed vector int3', FTV('int', [1, 2, 100000])),
    ('fixed vector uint4', FTV('uint', [1, 2, 3, 4])),
    ('fixed vector uint3', FTV('uint', [1, 2, 300])),
    ('fixed vector float2', FTV('float', [1.5, -2.5])),
    ('fixed vector float3 f64', FTV('float', [0.1, 0.2, 0.3])),
    ('fixed vector float4 f32', FTV('float', [0.1, 0.2, 0.3, 0.4], 4)),
    ('fixed vector int2 forced to 64 bits', FTV('int', [1, 2], 8)),
    ('typed vectors inside map', {'bools': TV('bool', [True, False]), 'xyz': FTV('float', [1.0, 2.0, 3.0]),
                                  'ids': TV('uint', [5, 6, 7, 8, 9])}),
    ('indirect int', Indirect('int', -5)),
    ('indirect uint', Indirect('uint', 2**40)),
    ('indirect float', Indirect('float', 0.1)),
    ('indirect numbers keep vector narrow', [Indirect('int', 2**40), 1, Indirect('float', 0.5)]),
    ('key as value', [Key('k1'), Key('k2')]),
    ('gsb exec request', EXEC_REQUEST),
    ('gsb batch results reply', BATCH_RESULTS_REPLY),
    ('gsb error reply', {'id': 'req-1', 'error': {'InternalError': 'Failed to read file'}}),
]


def main():
    out = sys.stdout
    out.write('// Generated by scripts/flexbuffers-vectors.py with Google\'s flatbuffers %s Python package\n'
              % flatbuffers.__version__)
    out.write('// (flatbuffers.flexbuffers.Builder, key sharing off). Do not edit; regenerate instead.\n')
    out.write('import FlexBuffers\nimport Testing\n\n')
    out.write('struct ReferenceVector: Sendable, CustomTestStringConvertible {\n')
    out.write('    let name: String\n    let bytes: [UInt8]\n    let value: FlexValue\n')
    out.write('    /// The settings with which `FlexBuffersEncoder(shareKeys: false)` must write `value` as exactly `bytes`.\n')
    out.write('    let reproducedBy: [FlexBuffersEncoder.VectorTyping]\n')
    out.write('    var testDescription: String { name }\n}\n\n')
    out.write('let referenceVectors: [ReferenceVector] = [\n')
    for name, spec in CASES:
        data = build(spec)
        out.write('    ReferenceVector(\n')
        out.write('        name: %s,\n' % swift_string(name))
        out.write('        bytes: [')
        for i, b in enumerate(data):
            if i % 16 == 0:
                out.write('\n            ')
            out.write('0x%02x,%s' % (b, '' if i % 16 == 15 or i == len(data) - 1 else ' '))
        out.write('\n        ],\n')
        out.write('        value: %s,\n' % swift_value(spec))
        out.write('        reproducedBy: [%s]\n' % ', '.join(reproduced_by(spec)))
        out.write('    ),\n')
    out.write(']\n')


if __name__ == '__main__':
    main()
