import CRabbitMQ
import Foundation

/// Owns C memory for outgoing frames: strings, tables, properties. rabbitmq-c only borrows the
/// pointers (`amqp_bytes_t` has no ownership), and serialises frames before the call returns, so an
/// arena lives for one call and is reset after it. Confined to the connection thread (not Sendable).
final class CArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    init() {}

    deinit { reset() }

    func reset() {
        for block in blocks { free(block) }
        blocks.removeAll(keepingCapacity: true)
    }

    private func allocate(_ count: Int) -> UnsafeMutableRawPointer {
        guard let p = malloc(Swift.max(count, 1)) else { fatalError("out of memory") }
        blocks.append(p)
        return p
    }

    func bytes(_ string: String) -> amqp_bytes_t {
        var s = string
        return s.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }

    func bytes(_ raw: UnsafeRawBufferPointer) -> amqp_bytes_t {
        guard raw.count > 0, let base = raw.baseAddress else { return amqp_bytes_t(len: 0, bytes: nil) }
        let p = allocate(raw.count)
        p.copyMemory(from: base, byteCount: raw.count)
        return amqp_bytes_t(len: raw.count, bytes: p)
    }

    func bytes(_ array: [UInt8]) -> amqp_bytes_t {
        array.withUnsafeBytes { bytes($0) }
    }

    /// A NUL-terminated copy (for rabbitmq-c's `const char *` parameters).
    func cString(_ string: String) -> UnsafePointer<CChar> {
        let utf8 = Array(string.utf8)
        let p = allocate(utf8.count + 1).assumingMemoryBound(to: CChar.self)
        utf8.withUnsafeBytes { UnsafeMutableRawPointer(p).copyMemory(from: $0.baseAddress!, byteCount: utf8.count) }
        p[utf8.count] = 0
        return UnsafePointer(p)
    }

    func table(_ dictionary: [String: FieldValue]) -> amqp_table_t {
        guard !dictionary.isEmpty else { return amqp_table_t(num_entries: 0, entries: nil) }
        let stride = MemoryLayout<amqp_table_entry_t>.stride
        let entries = allocate(stride * dictionary.count).bindMemory(to: amqp_table_entry_t.self, capacity: dictionary.count)
        for (i, (key, value)) in dictionary.enumerated() {
            (entries + i).initialize(to: amqp_table_entry_t(key: bytes(key), value: field(value)))
        }
        return amqp_table_t(num_entries: Int32(dictionary.count), entries: entries)
    }

    func array(_ values: [FieldValue]) -> amqp_array_t {
        guard !values.isEmpty else { return amqp_array_t(num_entries: 0, entries: nil) }
        let entries = allocate(MemoryLayout<amqp_field_value_t>.stride * values.count)
            .bindMemory(to: amqp_field_value_t.self, capacity: values.count)
        for (i, value) in values.enumerated() { (entries + i).initialize(to: field(value)) }
        return amqp_array_t(num_entries: Int32(values.count), entries: entries)
    }

    func field(_ value: FieldValue) -> amqp_field_value_t {
        var f = amqp_field_value_t()
        func kind(_ k: amqp_field_value_kind_t) { f.kind = UInt8(truncatingIfNeeded: k.rawValue) }
        switch value {
        case .bool(let v): kind(AMQP_FIELD_KIND_BOOLEAN); f.value.boolean = v ? 1 : 0
        case .int8(let v): kind(AMQP_FIELD_KIND_I8); f.value.i8 = v
        case .uint8(let v): kind(AMQP_FIELD_KIND_U8); f.value.u8 = v
        case .int16(let v): kind(AMQP_FIELD_KIND_I16); f.value.i16 = v
        case .uint16(let v): kind(AMQP_FIELD_KIND_U16); f.value.u16 = v
        case .int32(let v): kind(AMQP_FIELD_KIND_I32); f.value.i32 = v
        case .uint32(let v): kind(AMQP_FIELD_KIND_U32); f.value.u32 = v
        case .int64(let v): kind(AMQP_FIELD_KIND_I64); f.value.i64 = v
        case .float(let v): kind(AMQP_FIELD_KIND_F32); f.value.f32 = v
        case .double(let v): kind(AMQP_FIELD_KIND_F64); f.value.f64 = v
        case .decimal(let scale, let v): kind(AMQP_FIELD_KIND_DECIMAL); f.value.decimal = amqp_decimal_t(decimals: scale, value: v)
        case .string(let v): kind(AMQP_FIELD_KIND_UTF8); f.value.bytes = bytes(v)
        case .bytes(let v): kind(AMQP_FIELD_KIND_BYTES); f.value.bytes = bytes(v)
        case .timestamp(let d): kind(AMQP_FIELD_KIND_TIMESTAMP); f.value.u64 = UInt64(Swift.max(0, d.timeIntervalSince1970.rounded(.down)))
        case .table(let t): kind(AMQP_FIELD_KIND_TABLE); f.value.table = table(t)
        case .array(let a): kind(AMQP_FIELD_KIND_ARRAY); f.value.array = array(a)
        case .void: kind(AMQP_FIELD_KIND_VOID)
        }
        return f
    }

    func properties(_ p: MessageProperties) -> amqp_basic_properties_t {
        var c = amqp_basic_properties_t()
        var flags: Int32 = 0
        if let v = p.contentType { c.content_type = bytes(v); flags |= AMQP_BASIC_CONTENT_TYPE_FLAG }
        if let v = p.contentEncoding { c.content_encoding = bytes(v); flags |= AMQP_BASIC_CONTENT_ENCODING_FLAG }
        if !p.headers.isEmpty { c.headers = table(p.headers); flags |= AMQP_BASIC_HEADERS_FLAG }
        if let v = p.deliveryMode { c.delivery_mode = v.rawValue; flags |= AMQP_BASIC_DELIVERY_MODE_FLAG }
        if let v = p.priority { c.priority = v; flags |= AMQP_BASIC_PRIORITY_FLAG }
        if let v = p.correlationId { c.correlation_id = bytes(v); flags |= AMQP_BASIC_CORRELATION_ID_FLAG }
        if let v = p.replyTo { c.reply_to = bytes(v); flags |= AMQP_BASIC_REPLY_TO_FLAG }
        if let v = p.expiration { c.expiration = bytes(v); flags |= AMQP_BASIC_EXPIRATION_FLAG }
        if let v = p.messageId { c.message_id = bytes(v); flags |= AMQP_BASIC_MESSAGE_ID_FLAG }
        if let v = p.timestamp { c.timestamp = UInt64(Swift.max(0, v.timeIntervalSince1970.rounded(.down))); flags |= AMQP_BASIC_TIMESTAMP_FLAG }
        if let v = p.type { c.type = bytes(v); flags |= AMQP_BASIC_TYPE_FLAG }
        if let v = p.userId { c.user_id = bytes(v); flags |= AMQP_BASIC_USER_ID_FLAG }
        if let v = p.appId { c.app_id = bytes(v); flags |= AMQP_BASIC_APP_ID_FLAG }
        c._flags = amqp_flags_t(flags)
        return c
    }
}
