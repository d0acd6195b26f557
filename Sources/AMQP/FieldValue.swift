import Foundation

/// A value in an AMQP field table (headers, declaration arguments).
///
/// The kinds are those RabbitMQ accepts; unsigned 64-bit integers are not among them (RabbitMQ rejects
/// the `L` tag), so there is no `uint64`. Timestamps have second precision on the wire.
public enum FieldValue: Sendable, Hashable {
    case bool(Bool)
    case int8(Int8)
    case uint8(UInt8)
    case int16(Int16)
    case uint16(UInt16)
    case int32(Int32)
    case uint32(UInt32)
    case int64(Int64)
    case float(Float)
    case double(Double)
    case decimal(scale: UInt8, value: UInt32)
    case string(String)
    case bytes([UInt8])
    case timestamp(Date)
    case table([String: FieldValue])
    case array([FieldValue])
    case void
}

extension FieldValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    /// Integer literals become `int64` (`l`), which every AMQP client reads back as a signed long.
    public init(integerLiteral value: Int64) { self = .int64(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}
