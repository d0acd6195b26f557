import FlexBuffers
import Testing

/// Buffers written by Rust's `flexbuffers` 2.0.0 (the version yagna 0.17 depends on) through serde,
/// and replies of ours checked against it.
///
/// Made with a throwaway Rust program (not kept: it builds the crate's source) over
/// `flexbuffers::to_vec` and structs shaped like yagna's: `Exec` (activity Exec request),
/// `Vec<ExeScriptCommandResult>` (GetExecBatchResults reply) and a struct of every serde shape.
/// `execFrame` is the GSB request frame as yagna 0.17.6's gsb-api builds it: a Builder without key
/// sharing, `id`, `component`, then the serde payload copied key by key in sorted key order.
@Suite struct RustSerdeVectorsTests {
    static let gsbID = "6b1e0b8c-5f29-4c7c-9a43-0f5d2c1e9a77"

    // MARK: What Rust writes

    static let execPayloadHex = "6163746976697479496400066131623263330062617463684964000762617463682d3700657865536372697074006465706c6f79006e65740000686f737473006462000831302e302e302e3200010e0101010e14021b210201020821242801310101010924737461727400617267730000010701010105280114010101072472756e00656e7472795f706f696e7400092f62696e2f6563686f000568656c6c6f00010714023a23020102081b28140130010101092403533a0524242474696d656f75740004c5b3a30c000000070000000100000004000000cc000000c00000002a0000000000a0401414280e142601"

    static let execFrameHex = "6964002436623165306238632d356632392d346337632d396134332d30663564326331653961373700636f6d706f6e656e74000445786563007061796c6f6164006163746976697479496400066131623263330062617463684964000762617463682d3700657865536372697074006465706c6f7900686f737473006462000831302e302e302e3200010e0101010e146e657400000220070201020d07242801310101010924737461727400617267730000010701010105280114010101072472756e0061726773000568656c6c6f00010714656e7472795f706f696e7400092f62696e2f6563686f000227190201021f1128140135010101092403583f0524242474696d656f75740004cab8a80c00050000000100000004000000cf000000c3000000280000000000a0401414280e030009013401fd000600020003000a013c012600141426092501"

    static let resultsHex = "696e646578006576656e7444617465001b323032362d30352d30315431323a30303a30302e3030303030305a00726573756c7400024f6b007374646f757400737464657272006d657373616765006973426174636846696e697368656400075960131c36252d07010758000000380000140868001400001b323032362d30352d30315431323a30303a30312e3530303030305a00024f6b000668656c6c6f0a00079ba2555e78676f070107330101001a0018140868001400140251102424042801"

    static let scalarsHex = "6e6f6e6500736f6d6500736d616c6c00626967006e65670069006633327600663634760066363465786163740074657874000668c3a96c6c6f00756e69740004556e6974006e657774797065004e65777479706500010900020000000100000001000000701101000a7475706c65005475706c65000178000201040814010f0101010928737472756b74005374727563740061006200020504020102fe0104680116010101092462797465735f766563000102ff62797465735f626c6f6200030102ff706169720001002c01626f6f6c7300020100737472696e6773000161000162000206041414696e7473000501fe030405666c6f6174733300000000803f00002040000000bf1500fa0040005a006900f800f000f7002500020134000a01db00220161001c0123015500a8000101c700f800000000002e0000000000000002000000000000001500000000000000ffffffffffffffff8500000000000000a000000000000000b700000000000000000000a09999b93f00000000000014409a9999999999b93f8c00000000000000d4feffffffffffffaa00000000000000ffffffffffffffff44010000000000000000000000000000f00000000000000005000000000000000700000000000000ec000000000000003301000000000000ad010000000000006601000000000000b0010000000000000b9064500f0f0f56072c072603450b0b2824142414bd2701"

    /// `Result::<(), RpcError>::Err(RpcError::InternalError("boom"))`.
    static let resultErrHex = "45727200496e7465726e616c4572726f720004626f6f6d0001150101010a1401200101010724022401"
    /// `Result::<Option<u8>, RpcError>::Ok(None)`.
    static let resultOkNoneHex = "4f6b0001040101010000022401"

    /// `Exec { activity_id, batch_id, exe_script, timeout: Some(5.0f32) }`, fields in declaration order.
    static let exec: FlexValue = .map([
        ("activityId", "a1b2c3"),
        ("batchId", "batch-7"),
        ("exeScript", [
            ["deploy": .map([("net", []), ("hosts", ["db": "10.0.0.2"])])],
            ["start": ["args": []]],
            ["run": .map([("entry_point", "/bin/echo"), ("args", ["hello"])])],
        ]),
        ("timeout", 5.0),
    ])

    /// The frame yagna sends: its payload copied in sorted key order.
    static let execFrame: FlexValue = .map([
        ("id", .string(gsbID)),
        ("component", "Exec"),
        ("payload", .map([
            ("activityId", "a1b2c3"),
            ("batchId", "batch-7"),
            ("exeScript", [
                ["deploy": .map([("hosts", ["db": "10.0.0.2"]), ("net", [])])],
                ["start": ["args": []]],
                ["run": .map([("args", ["hello"]), ("entry_point", "/bin/echo")])],
            ]),
            ("timeout", 5.0),
        ])),
    ])

    /// Two `ExeScriptCommandResult`s: `index: u32`, `result` a unit variant, `stdout` an untagged
    /// `Option<CommandOutput>`.
    static let results: FlexValue = [
        .map([
            ("index", .uint(0)), ("eventDate", "2026-05-01T12:00:00.000000Z"), ("result", "Ok"),
            ("stdout", nil), ("stderr", nil), ("message", nil), ("isBatchFinished", false),
        ]),
        .map([
            ("index", .uint(1)), ("eventDate", "2026-05-01T12:00:01.500000Z"), ("result", "Ok"),
            ("stdout", "hello\n"), ("stderr", nil), ("message", nil), ("isBatchFinished", true),
        ]),
    ]

    /// One field per serde shape, in declaration order.
    static let scalars: FlexValue = .map([
        ("none", nil),  // Option::None
        ("some", .uint(7)),  // Some(7u8)
        ("small", .uint(5)),  // 5u64: 8 bits
        ("big", .uint(.max)),
        ("neg", -1),  // -1i8
        ("i", -300),  // i64: 16 bits
        ("f32v", .double(Double(Float(0.1)))),  // 0.1f32: 32 bits
        ("f64v", 0.1),  // 0.1f64: 64 bits
        ("f64exact", 5.0),  // 5.0f64: 32 bits, it fits
        ("text", "h\u{e9}llo"),
        ("unit", "Unit"),  // unit variant: its name
        ("newtype", ["Newtype": .uint(70000)]),  // newtype variant: {name: value}
        ("tuple", ["Tuple": [.uint(1), "x"]]),  // tuple variant: {name: [fields]}
        ("strukt", ["Struct": ["a": -2, "b": true]]),  // struct variant: {name: {fields}}
        ("bytes_vec", [.uint(1), .uint(2), .uint(255)]),  // Vec<u8>: typed uint vector (here fixed, 3)
        ("bytes_blob", .blob([1, 2, 255])),  // #[serde(with = "serde_bytes")]: blob
        ("pair", [.uint(1), .uint(300)]),  // (u8, u16): fixed uint vector of 2
        ("bools", [true, false]),  // Vec<bool>: typed bool vector
        ("strings", ["a", "b"]),  // Vec<String>: untyped vector
        ("ints", [1, -2, 3, 4, 5]),  // Vec<i32>: typed int vector
        ("floats3", [1.0, 2.5, -0.5]),  // [f32; 3]: fixed float vector of 3
    ])

    static let cases: [(name: String, hex: String, value: FlexValue, encoder: FlexBuffersEncoder)] = [
        ("Exec payload", execPayloadHex, exec, FlexBuffersEncoder()),
        ("yagna Exec frame", execFrameHex, execFrame, FlexBuffersEncoder(shareKeys: false)),
        ("GetExecBatchResults payload", resultsHex, results, FlexBuffersEncoder()),
        ("serde shapes", scalarsHex, scalars, FlexBuffersEncoder()),
        ("Result Err", resultErrHex, ["Err": ["InternalError": "boom"]], FlexBuffersEncoder()),
        ("Result Ok(None)", resultOkNoneHex, ["Ok": nil], FlexBuffersEncoder()),
    ]

    @Test(arguments: cases.indices)
    func decodesWhatRustWrites(_ index: Int) throws {
        let rust = Self.cases[index]
        #expect(try FlexBuffersDecoder().decode(bytes(hex: rust.hex)) == rust.value, "\(rust.name)")
    }

    @Test(arguments: cases.indices)
    func writesWhatRustWrites(_ index: Int) throws {
        let rust = Self.cases[index]
        #expect(hex(try rust.encoder.encode(rust.value)) == rust.hex, "\(rust.name)")
    }

    // MARK: What Rust accepts from us

    // Replies as our encoder writes them, each fed on 2026-11-29 to a copy of yagna 0.17.6's
    // read_ws_response path (get_root, as_map, index("id").get_str(), index("error") when non-empty
    // else index("payload"), copied under "Ok"/"Err" into a new buffer) and then to serde as
    // `Result<Vec<ExeScriptCommandResult>, RpcError>` or `Result<(), RpcError>`: all four gave back
    // the values below. The test pins the bytes, so a change to the encoder's layout shows up here.

    static let resultsReplyHex = "6964002436623165306238632d356632392d346337632d396134332d306635643263316539613737007061796c6f616400696e646578006576656e7444617465001b323032362d30352d30315431323a30303a30302e3030303030305a00726573756c7400024f6b007374646f757400737464657272006d657373616765006973426174636846696e697368656400075960131c36252d07010758000000380000140868001400001b323032362d30352d30315431323a30303a30312e3530303030305a00024f6b000668656c6c6f0a00079ba2555e78676f070107330101001a001814086800140014025110242402f0c8020102f10b1428042401"
    static let resultsReplyIntIndexHex = "6964002436623165306238632d356632392d346337632d396134332d306635643263316539613737007061796c6f616400696e646578006576656e7444617465001b323032362d30352d30315431323a30303a30302e3030303030305a00726573756c7400024f6b007374646f757400737464657272006d657373616765006973426174636846696e697368656400075960131c36252d0701075800000038000014046800140000696e646578006576656e7444617465001b323032362d30352d30315431323a30303a30312e3530303030305a00726573756c7400024f6b007374646f7574000668656c6c6f0a00737464657272006d657373616765006973426174636846696e697368656400076168131c3e25350701076001010040003714046800140014028e10242402002e010701040002000200340112001428062501"
    static let errorReplyHex = "6964002436623165306238632d356632392d346337632d396134332d306635643263316539613737006572726f7200496e7465726e616c4572726f720004626f6f6d0001150101010a1402224c020102084d2414042401"
    static let unitReplyHex = "6964002436623165306238632d356632392d346337632d396134332d306635643263316539613737007061796c6f61640002320a02010233001400042401"

    static let replies: [(name: String, hex: String, value: FlexValue, encoder: FlexBuffersEncoder)] = [
        ("GetExecBatchResults reply", resultsReplyHex, ["id": .string(gsbID), "payload": results], FlexBuffersEncoder()),
        (
            // Signed ints for the u32 index, untyped vectors, no key sharing: serde takes those too.
            "GetExecBatchResults reply, int index", resultsReplyIntIndexHex,
            ["id": .string(gsbID), "payload": withSignedIndex(results)],
            FlexBuffersEncoder(vectorTyping: .never, shareKeys: false)
        ),
        ("error reply", errorReplyHex, ["id": .string(gsbID), "error": ["InternalError": "boom"]], FlexBuffersEncoder()),
        ("unit reply", unitReplyHex, ["id": .string(gsbID), "payload": nil], FlexBuffersEncoder()),
    ]

    static func withSignedIndex(_ results: FlexValue) -> FlexValue {
        .vector((results.vectorValue ?? []).map { result in
            .map((result.mapValue ?? []).map { entry in
                entry.key == "index" ? (entry.key, .int(Int64(entry.value.intValue ?? 0))) : entry
            })
        })
    }

    @Test(arguments: replies.indices)
    func writesRepliesRustWasSeenToAccept(_ index: Int) throws {
        let reply = Self.replies[index]
        #expect(hex(try reply.encoder.encode(reply.value)) == reply.hex, "\(reply.name)")
        #expect(try FlexBuffersDecoder().decode(bytes(hex: reply.hex)) == reply.value, "\(reply.name)")
    }
}
