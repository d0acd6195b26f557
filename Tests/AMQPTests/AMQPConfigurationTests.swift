import AMQP
import Testing

@Suite("AMQPConfiguration URL parsing")
struct AMQPConfigurationTests {
    @Test func parsesAFullURL() throws {
        let c = try AMQPConfiguration(url: "amqp://alice:s%40cret@broker.example:5673/prod%2Fa?heartbeat=15&connection_timeout=2.5&rpc_timeout=7&connection_name=bridge")
        #expect(c.host == "broker.example")
        #expect(c.port == 5673)
        #expect(c.user == "alice")
        #expect(c.password == "s@cret")
        #expect(c.vhost == "prod/a")
        #expect(c.useTLS == false)
        #expect(c.heartbeat == .seconds(15))
        #expect(c.connectTimeout == .milliseconds(2500))
        #expect(c.rpcTimeout == .seconds(7))
        #expect(c.connectionName == "bridge")
    }

    @Test func keepsTheHostAsWrittenDecodingOnlyPercentEscapes() throws {
        #expect(try AMQPConfiguration(url: "amqp://[::1]:5673/").host == "[::1]")
        #expect(try AMQPConfiguration(url: "amqp://[fe80::1%25eth0]/").host == "[fe80::1%eth0]")
        #expect(try AMQPConfiguration(url: "amqp://my%2Dbroker.example/").host == "my-broker.example")
        #expect(try AMQPConfiguration(url: "amqp://br%C3%B6ker.example/").host == "bröker.example")
        // A punycode name stays punycode: that is what the resolver looks up.
        #expect(try AMQPConfiguration(url: "amqp://xn--brker-jua.example/").host == "xn--brker-jua.example")
    }

    @Test func appliesDefaults() throws {
        let c = try AMQPConfiguration(url: "amqp://localhost")
        #expect(c.port == 5672)
        #expect(c.vhost == "/")
        #expect(c.user == "guest")
        #expect(c.password == "guest")
        #expect(c.heartbeat == .seconds(30))
        #expect(c.connectTimeout == .seconds(10))
        #expect(c.rpcTimeout == .seconds(30))
        #expect(c.connectionName == nil)
        #expect(c.reconnectBackoff == ReconnectBackoff(min: .milliseconds(100), max: .seconds(10)))
        #expect(try AMQPConfiguration(url: "amqp://localhost/").vhost == "/")
        #expect(try AMQPConfiguration(url: "amqp://localhost/%2F").vhost == "/")
        #expect(try AMQPConfiguration(url: "amqp://localhost/dev").vhost == "dev")
        let userOnly = try AMQPConfiguration(url: "amqp://bob@localhost")
        #expect(userOnly.user == "bob")
        #expect(userOnly.password == "")
    }

    @Test func parsesTLSOptions() throws {
        let c = try AMQPConfiguration(url: "amqps://u:p@mq.example/?cacertfile=/etc/ca.pem&verify=verify_peer&verify_hostname=false")
        #expect(c.useTLS)
        #expect(c.port == 5671)
        #expect(c.tls.caCertPath == "/etc/ca.pem")
        #expect(c.tls.verifyPeer)
        #expect(c.tls.verifyHostname == false)
        let none = try AMQPConfiguration(url: "amqps://mq.example?verify=verify_none")
        #expect(none.tls.verifyPeer == false)
        #expect(none.tls.verifyHostname == false)
    }

    @Test(arguments: [
        ("http://localhost", "scheme"),
        ("localhost:5672", "scheme"),
        ("amqp://", "host"),
        ("amqp://localhost:99999", "port"),
        ("amqp://localhost:abc", "URL"),
        ("amqp://localhost/a/b", "vhost"),
        ("amqp://localhost?heartbeat=soon", "heartbeat"),
        ("amqp://localhost?heartbeat=-1", "heartbeat"),
        ("amqp://localhost?hearbeat=5", "hearbeat"),
        ("amqps://localhost?verify=maybe", "verify"),
    ])
    func rejectsInvalidURLs(url: String, mentions: String) {
        do {
            _ = try AMQPConfiguration(url: url)
            Issue.record("expected \(url) to be rejected")
        } catch let error as AMQPError {
            #expect(error.kind == .invalidConfiguration)
            #expect(error.message.contains(mentions), "\(error.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func aURLListNamesEveryNodeOfACluster() throws {
        let c = try AMQPConfiguration(
            url: "amqp://bob:p,w@n1:5701/v?heartbeat=5, amqp://bob:p,w@n2:5702/v?heartbeat=5,amqp://bob:p,w@n3/v?heartbeat=5")
        #expect(c.nodes == [.init(host: "n1", port: 5701), .init(host: "n2", port: 5702), .init(host: "n3", port: 5672)])
        #expect(c.host == "n1" && c.port == 5701)
        // A comma inside one URL (here the password) does not split it.
        #expect(c.password == "p,w")
        #expect(c.heartbeat == .seconds(5))
        #expect(c.redactedURL == "amqp://bob@n1:5701/v,amqp://bob@n2:5702/v,amqp://bob@n3:5672/v")
        #expect(try AMQPConfiguration(url: "amqp://h").nodes == [.init(host: "h", port: 5672)])
    }

    @Test(arguments: [
        "amqp://u:p@n1/v,amqp://u:p@n2/w",
        "amqp://u:p@n1/v,amqp://u:q@n2/v",
        "amqp://u:p@n1/v,amqps://u:p@n2/v",
        "amqp://u:p@n1/v,amqp://u:p@n2/v?heartbeat=9",
    ])
    func aURLListWhoseNodesDifferInMoreThanTheAddressIsRejected(url: String) {
        do {
            _ = try AMQPConfiguration(url: url)
            Issue.record("expected \(url) to be rejected")
        } catch let error as AMQPError {
            #expect(error.kind == .invalidConfiguration)
            #expect(error.message.contains("URL 2"), "\(error.message)")
            #expect(!error.message.contains(":p@") && !error.message.contains(":q@"), "\(error.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func errorsAndRedactedURLNeverContainThePassword() throws {
        let c = try AMQPConfiguration(url: "amqp://bob:hunter2@h:5672/v")
        #expect(c.redactedURL == "amqp://bob@h:5672/v")
        #expect(!c.redactedURL.contains("hunter2"))
        do {
            _ = try AMQPConfiguration(url: "amqp://bob:hunter2@h:5672/v?bogus=1")
            Issue.record("expected an error")
        } catch {
            #expect(!"\(error)".contains("hunter2"))
            #expect("\(error)".contains("bogus"))
        }
    }

    @Test func backoffGrowsAndIsBounded() {
        let b = ReconnectBackoff(min: .milliseconds(100), max: .seconds(2))
        for attempt in 0..<20 {
            let d = b.delay(attempt: attempt)
            #expect(d >= .milliseconds(50))
            #expect(d <= .seconds(2))
        }
        #expect(b.delay(attempt: 10) >= .seconds(1))
    }
}
