import CRabbitMQ
import Foundation

/// Deep copies of rabbitmq-c values into Swift values. The C memory belongs to pools that are
/// recycled on the next read, so nothing here may keep a pointer.
enum CDecoding {
    static func string(_ b: amqp_bytes_t) -> String {
        guard b.len > 0, let p = b.bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: b.len), as: UTF8.self)
    }

    /// Remembers the last decoded string and returns it again when the same bytes come back,
    /// saving an allocation per delivery for names longer than 15 bytes.
    struct StringCache {
        private var bytes: [UInt8] = []
        private var value = ""

        mutating func string(_ b: amqp_bytes_t) -> String {
            guard b.len > 0, let p = b.bytes else { return "" }
            let raw = UnsafeRawBufferPointer(start: p, count: b.len)
            if raw.count == bytes.count, bytes.withUnsafeBytes({ memcmp($0.baseAddress!, p, raw.count) == 0 }) {
                return value
            }
            bytes = [UInt8](raw)
            value = String(decoding: raw, as: UTF8.self)
            return value
        }
    }

    static func bytes(_ b: amqp_bytes_t) -> [UInt8] {
        guard b.len > 0, let p = b.bytes else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: p, count: b.len))
    }

    static func table(_ t: amqp_table_t) -> [String: FieldValue] {
        guard t.num_entries > 0, let entries = t.entries else { return [:] }
        var result: [String: FieldValue] = [:]
        result.reserveCapacity(Int(t.num_entries))
        for i in 0..<Int(t.num_entries) {
            let entry = entries[i]
            result[string(entry.key)] = field(entry.value)
        }
        return result
    }

    static func array(_ a: amqp_array_t) -> [FieldValue] {
        guard a.num_entries > 0, let entries = a.entries else { return [] }
        return (0..<Int(a.num_entries)).map { field(entries[$0]) }
    }

    static func field(_ f: amqp_field_value_t) -> FieldValue {
        func k(_ kind: amqp_field_value_kind_t) -> UInt8 { UInt8(truncatingIfNeeded: kind.rawValue) }
        switch f.kind {
        case k(AMQP_FIELD_KIND_BOOLEAN): return .bool(f.value.boolean != 0)
        case k(AMQP_FIELD_KIND_I8): return .int8(f.value.i8)
        case k(AMQP_FIELD_KIND_U8): return .uint8(f.value.u8)
        case k(AMQP_FIELD_KIND_I16): return .int16(f.value.i16)
        case k(AMQP_FIELD_KIND_U16): return .uint16(f.value.u16)
        case k(AMQP_FIELD_KIND_I32): return .int32(f.value.i32)
        case k(AMQP_FIELD_KIND_U32): return .uint32(f.value.u32)
        case k(AMQP_FIELD_KIND_I64): return .int64(f.value.i64)
        case k(AMQP_FIELD_KIND_U64): return .int64(Int64(bitPattern: f.value.u64))
        case k(AMQP_FIELD_KIND_F32): return .float(f.value.f32)
        case k(AMQP_FIELD_KIND_F64): return .double(f.value.f64)
        case k(AMQP_FIELD_KIND_DECIMAL): return .decimal(scale: f.value.decimal.decimals, value: f.value.decimal.value)
        case k(AMQP_FIELD_KIND_UTF8): return .string(string(f.value.bytes))
        case k(AMQP_FIELD_KIND_BYTES): return .bytes(bytes(f.value.bytes))
        case k(AMQP_FIELD_KIND_TIMESTAMP): return .timestamp(Date(timeIntervalSince1970: TimeInterval(f.value.u64)))
        case k(AMQP_FIELD_KIND_TABLE): return .table(table(f.value.table))
        case k(AMQP_FIELD_KIND_ARRAY): return .array(array(f.value.array))
        default: return .void
        }
    }

    static func properties(_ c: amqp_basic_properties_t) -> MessageProperties {
        let flags = Int32(bitPattern: c._flags)
        func has(_ flag: Int32) -> Bool { flags & flag != 0 }
        var p = MessageProperties()
        if has(AMQP_BASIC_CONTENT_TYPE_FLAG) { p.contentType = string(c.content_type) }
        if has(AMQP_BASIC_CONTENT_ENCODING_FLAG) { p.contentEncoding = string(c.content_encoding) }
        if has(AMQP_BASIC_HEADERS_FLAG) { p.headers = table(c.headers) }
        if has(AMQP_BASIC_DELIVERY_MODE_FLAG) { p.deliveryMode = MessageProperties.DeliveryMode(rawValue: c.delivery_mode) }
        if has(AMQP_BASIC_PRIORITY_FLAG) { p.priority = c.priority }
        if has(AMQP_BASIC_CORRELATION_ID_FLAG) { p.correlationId = string(c.correlation_id) }
        if has(AMQP_BASIC_REPLY_TO_FLAG) { p.replyTo = string(c.reply_to) }
        if has(AMQP_BASIC_EXPIRATION_FLAG) { p.expiration = string(c.expiration) }
        if has(AMQP_BASIC_MESSAGE_ID_FLAG) { p.messageId = string(c.message_id) }
        if has(AMQP_BASIC_TIMESTAMP_FLAG) { p.timestamp = Date(timeIntervalSince1970: TimeInterval(c.timestamp)) }
        if has(AMQP_BASIC_TYPE_FLAG) { p.type = string(c.type) }
        if has(AMQP_BASIC_USER_ID_FLAG) { p.userId = string(c.user_id) }
        if has(AMQP_BASIC_APP_ID_FLAG) { p.appId = string(c.app_id) }
        return p
    }
}
