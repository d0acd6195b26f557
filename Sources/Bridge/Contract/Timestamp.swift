import Foundation

/// RFC 3339 UTC timestamps with milliseconds, e.g. `2026-11-29T10:00:03.120Z`.
enum Timestamp {
    /// Formats `date`, truncated to the millisecond; locale- and time-zone-independent.
    static func string(_ date: Date) -> String {
        // Round to the microsecond first, so binary noise (x.119999…) does not lose a millisecond.
        let totalUs = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let totalMs = totalUs >= 0 ? totalUs / 1000 : (totalUs - 999) / 1000
        let msPerDay: Int64 = 86_400_000
        var days = totalMs / msPerDay
        var msOfDay = totalMs % msPerDay
        if msOfDay < 0 { msOfDay += msPerDay; days -= 1 }
        // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        let hour = msOfDay / 3_600_000
        let minute = msOfDay / 60_000 % 60
        let second = msOfDay / 1000 % 60
        let ms = msOfDay % 1000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)).\(pad(ms, 3))Z"
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let s = String(value)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
