import Dashboard
import Testing

@Suite struct DashboardTokenTests {
    @Test func matchesOnlyTheExactToken() {
        let token = DashboardToken("s3cret-token-0123456789")
        #expect(token.matches("s3cret-token-0123456789"))
        #expect(!token.matches("s3cret-token-012345678"))
        #expect(!token.matches("s3cret-token-01234567890"))
        #expect(!token.matches("S3cret-token-0123456789"))
        #expect(!token.matches(""))
        // A candidate 256 bytes longer must not wrap around to a match.
        #expect(!token.matches("s3cret-token-0123456789" + String(repeating: "s3cret-token-0123456789", count: 0) + String(repeating: "x", count: 256)))
    }

    @Test func neverShowsTheSecret() {
        let token = DashboardToken("s3cret-token-0123456789")
        #expect(!"\(token)".contains("s3cret"))
        #expect(!String(reflecting: token).contains("s3cret"))
    }
}
