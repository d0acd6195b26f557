import Foundation

/// RFC 3339 UTC timestamps with milliseconds, e.g. `2026-11-29T10:00:03.120Z`, through Foundation's
/// ISO 8601 format style (locale- and time-zone-independent).
public enum Timestamp {
    private static let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)

    /// Formats `date`, truncated to the millisecond.
    public static func string(_ date: Date) -> String {
        // The style truncates the binary value, and x.12 s is stored as x.1199999…: it would print
        // .119 (and -0.001 s as .998). So take the millisecond first (rounded to the microsecond,
        // then floored), and format the middle of it.
        let microseconds = (date.timeIntervalSince1970 * 1_000_000).rounded()
        let milliseconds = (microseconds / 1000).rounded(.down)
        return style.format(Date(timeIntervalSince1970: (milliseconds + 0.5) / 1000))
    }

    /// Reads a UTC timestamp as ``string(_:)`` writes it; `nil` when it is not one.
    public static func date(_ text: String) -> Date? {
        try? Date(text, strategy: style)
    }
}
