import Foundation
import NIOSSL
import PostgresNIO

/// `postgres://user:password@host:port/database?sslmode=…&schema=…&lease=…`, read once at start.
/// Its ``redacted`` form is the only one that is logged.
struct PostgresURL: Sendable {
    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String
    var sslMode: SSLMode
    var schema: String
    var lease: Duration
    /// The URL without its password, for logs.
    var redacted: String

    init(_ text: String) throws {
        guard let url = URLComponents(string: text), url.scheme == "postgres" || url.scheme == "postgresql" else {
            throw JournalError("a PostgreSQL journal URL starts with postgres://")
        }
        guard let host = url.host, !host.isEmpty else { throw JournalError("the PostgreSQL journal URL has no host") }
        guard let user = url.user, !user.isEmpty else { throw JournalError("the PostgreSQL journal URL has no user") }
        let database = String(url.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw JournalError("the PostgreSQL journal URL has no database (…/NAME)") }
        self.host = host
        self.port = url.port ?? 5432
        self.user = user
        self.password = url.password
        self.database = database
        self.sslMode = .prefer
        self.schema = "public"
        self.lease = .seconds(30)
        for item in url.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    throw JournalError("sslmode must be disable, prefer or require, not \(value)")
                }
                sslMode = mode
            case "schema":
                guard value.range(of: "^[a-z_][a-z0-9_]{0,62}$", options: .regularExpression) != nil else {
                    throw JournalError("schema must be a plain lower-case name (a-z, 0-9, _), not \(value)")
                }
                schema = value
            case "lease":
                guard let seconds = Double(value), seconds >= 1, seconds <= 3600 else {
                    throw JournalError("lease must be seconds from 1 to 3600, not \(value)")
                }
                lease = .milliseconds(Int64(seconds * 1000))
            default:
                throw JournalError("unknown PostgreSQL journal URL parameter \(item.name) (known: sslmode, schema, lease)")
            }
        }
        var shown = url
        if shown.password != nil { shown.password = "***" }
        redacted = shown.string ?? "postgres://\(host)"
    }

    /// libpq's names for the three TLS modes postgres-nio has.
    enum SSLMode: String, Sendable {
        case disable, prefer, require
    }

    /// The connection pool's settings.
    var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = switch sslMode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
        return PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
    }

    /// One connection's settings, for the check at start.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS = switch sslMode {
        case .disable: .disable
        case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        return PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
    }

    /// Whether `text` names a PostgreSQL journal rather than a SQLite file.
    static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }
}
