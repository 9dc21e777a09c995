package debezium

import "math"

// time.precision.mode (reference §3, "Temporal types without a zone").
// timetz (ZonedTime), timestamptz (ZonedTimestamp) and interval
// (interval.handling.mode) are the same in every mode.

// timeMode is the parsed time.precision.mode.
type timeMode uint8

const (
	timeAdaptive       timeMode = iota // §3 adaptive (default)
	timeAdaptiveMicros                 // adaptive_time_microseconds
	timeConnect                        // connect
	timeISO                            // isostring (Debezium 3.1+)
	timeMicros                         // microseconds (3.1+)
	timeNanos                          // nanoseconds (3.1+)
)

// timeUnit is how one date, time or timestamp column writes its values.
type timeUnit uint8

const (
	unitMicros timeUnit = iota // MicroTime, MicroTimestamp; days for dates
	unitMillis                 // Time (int32), Timestamp, Connect's Time/Timestamp
	unitNanos                  // NanoTime, NanoTimestamp
	unitISO                    // IsoDate, IsoTime, IsoTimestamp strings
)

// Logical names of the time.precision.mode variants.
const (
	nameNanoTime         = "io.debezium.time.NanoTime"
	nameNanoTimestamp    = "io.debezium.time.NanoTimestamp"
	nameIsoDate          = "io.debezium.time.IsoDate"
	nameIsoTime          = "io.debezium.time.IsoTime"
	nameIsoTimestamp     = "io.debezium.time.IsoTimestamp"
	nameConnectDate      = "org.apache.kafka.connect.data.Date"
	nameConnectTime      = "org.apache.kafka.connect.data.Time"
	nameConnectTimestamp = "org.apache.kafka.connect.data.Timestamp"
)

// setupDate: int32 io.debezium.time.Date (days since the epoch) in every
// mode but connect (org.apache.kafka.connect.data.Date, also days) and
// isostring (io.debezium.time.IsoDate, ISO_OFFSET_DATE: "2024-02-29Z").
func setupDate(cp *colPlan, s *settings) error {
	cp.decode = decDate
	switch s.time {
	case timeConnect:
		cp.schema = fieldSchema{typ: "int32", name: nameConnectDate, version: 1}
	case timeISO:
		cp.tunit = unitISO
		cp.schema = fieldSchema{typ: "string", name: nameIsoDate, version: 1}
		cp.fallback = val{k: kString, b: []byte("1970-01-01Z")}
		cp.toast = toastPlaceholder
		return nil
	default:
		cp.schema = fieldSchema{typ: "int32", name: nameDate, version: 1}
	}
	cp.fallback = val{k: kInt}
	return nil
}

// setupTime: adaptive: p<=3 int32 Time (ms), else int64 MicroTime (µs);
// adaptive_time_microseconds and microseconds: MicroTime; nanoseconds:
// int64 NanoTime; connect: int32 org.apache.kafka.connect.data.Time
// (ms); isostring: IsoTime ("13:51:30.123456Z", shortest fraction).
func setupTime(cp *colPlan, s *settings) error {
	cp.decode = decTime
	cp.fallback = val{k: kInt}
	switch s.time {
	case timeAdaptive:
		if timePrecision(cp.typmod) <= 3 {
			cp.tunit = unitMillis
			cp.schema = fieldSchema{typ: "int32", name: nameTime, version: 1}
		} else {
			cp.schema = fieldSchema{typ: "int64", name: nameMicroTime, version: 1}
		}
	case timeAdaptiveMicros, timeMicros:
		cp.schema = fieldSchema{typ: "int64", name: nameMicroTime, version: 1}
	case timeNanos:
		cp.tunit = unitNanos
		cp.schema = fieldSchema{typ: "int64", name: nameNanoTime, version: 1}
	case timeConnect:
		cp.tunit = unitMillis
		cp.schema = fieldSchema{typ: "int32", name: nameConnectTime, version: 1}
	case timeISO:
		cp.tunit = unitISO
		cp.schema = fieldSchema{typ: "string", name: nameIsoTime, version: 1}
		cp.fallback = val{k: kString, b: []byte("00:00:00Z")}
		cp.toast = toastPlaceholder
	}
	cp.millis = cp.tunit == unitMillis
	return nil
}

// setupTimestamp: adaptive and adaptive_time_microseconds: p<=3 int64
// Timestamp (ms), else MicroTimestamp (µs); microseconds: MicroTimestamp;
// nanoseconds: NanoTimestamp; connect: org.apache.kafka.connect.data
// .Timestamp (ms); isostring: IsoTimestamp ("2018-06-20T15:13:16.945104Z",
// shortest fraction). The wall clock is read as UTC.
func setupTimestamp(cp *colPlan, s *settings) error {
	cp.decode = decTimestamp
	cp.fallback = val{k: kInt}
	switch s.time {
	case timeAdaptive, timeAdaptiveMicros:
		if timePrecision(cp.typmod) <= 3 {
			cp.tunit = unitMillis
			cp.schema = fieldSchema{typ: "int64", name: nameTimestamp, version: 1}
		} else {
			cp.schema = fieldSchema{typ: "int64", name: nameMicroTimestamp, version: 1}
		}
	case timeMicros:
		cp.schema = fieldSchema{typ: "int64", name: nameMicroTimestamp, version: 1}
	case timeNanos:
		cp.tunit = unitNanos
		cp.schema = fieldSchema{typ: "int64", name: nameNanoTimestamp, version: 1}
	case timeConnect:
		cp.tunit = unitMillis
		cp.schema = fieldSchema{typ: "int64", name: nameConnectTimestamp, version: 1}
	case timeISO:
		cp.tunit = unitISO
		cp.schema = fieldSchema{typ: "string", name: nameIsoTimestamp, version: 1}
		cp.fallback = val{k: kString, b: []byte("1970-01-01T00:00:00Z")}
		cp.toast = toastPlaceholder
	}
	cp.millis = cp.tunit == unitMillis
	return nil
}

func decDate(e *Encoder, cp *colPlan, b []byte) (val, error) {
	days, inf, err := parseDate(b)
	if err != nil {
		return val{}, err
	}
	switch inf {
	case posInf:
		days = posInfDays
	case negInf:
		days = negInfDays
	}
	return dateVal(cp, days), nil
}

// dateVal writes epoch days in the column's unit. Date.toEpochDay
// narrows with (int); IsoDate formats the LocalDate with ISO_OFFSET_DATE
// (proleptic years: 1 BC is 0000, 44 BC is -0043).
func dateVal(cp *colPlan, days int64) val {
	if cp.tunit == unitISO {
		y, m, d := civilFromDays(days)
		b := appendISOYear(nil, y)
		b = append(b, '-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10), 'Z')
		return val{k: kString, b: b}
	}
	return val{k: kInt, i: int64(int32(days))}
}

func decTime(e *Encoder, cp *colPlan, b []byte) (val, error) {
	ns, err := parseTime(b)
	return timeVal(cp, ns), err
}

// timeVal writes nanoseconds after midnight in the column's unit.
func timeVal(cp *colPlan, ns int64) val {
	switch cp.tunit {
	case unitMillis:
		return val{k: kInt, i: int64(int32(ns / 1e6))}
	case unitNanos:
		return val{k: kInt, i: ns}
	case unitISO:
		if ns >= 86400e9 {
			// 24:00:00: LocalTime has no such value; PgJDBC reads it
			// as LocalTime.MAX.
			ns = 86400e9 - 1
		}
		b := appendISOTime(nil, ns)
		return val{k: kString, b: append(b, 'Z')}
	}
	return val{k: kInt, i: ns / 1e3}
}

func decTimestamp(e *Encoder, cp *colPlan, b []byte) (val, error) {
	t, err := parseTimestamp(b, false)
	if err != nil {
		return val{}, err
	}
	return timestampVal(cp, t), nil
}

// timestampVal writes a timestamp in the column's unit. Infinite
// timestamps are the PgJDBC constants read as microseconds (§3:
// 9223372036825200000 / -9223372036832400000), converted like any other
// instant: ÷1000 for milliseconds, Conversions.toEpochNanos (saturating
// multiply, then a wrapping add of the nanoseconds, as Java's long
// arithmetic does) for nanoseconds, the formatted instant for isostring.
func timestampVal(cp *colPlan, t timestampText) val {
	if t.inf != finite {
		us := int64(posInfMicros)
		if t.inf == negInf {
			us = negInfMicros
		}
		t.secs = floorDiv(us, 1e6)
		t.nanos = (us - t.secs*1e6) * 1e3
	}
	if t.inf != finite && cp.tunit == unitMillis {
		us := int64(posInfMicros)
		if t.inf == negInf {
			us = negInfMicros
		}
		return val{k: kInt, i: us / 1000}
	}
	switch cp.tunit {
	case unitMillis:
		return val{k: kInt, i: javaMillis(t.secs, t.nanos)}
	case unitNanos:
		return val{k: kInt, i: javaNanos(t.secs, t.nanos)}
	case unitISO:
		return val{k: kString, b: appendZonedTimestamp(nil, t.secs, t.nanos, 0)}
	}
	return val{k: kInt, i: javaMicros(t.secs, t.nanos)}
}

// javaNanos is Conversions.toEpochNanos: TimeUnit.SECONDS.toNanos
// saturates, then the nanoseconds are added with wrapping.
func javaNanos(secs, nanos int64) int64 {
	var ns int64
	switch {
	case secs > math.MaxInt64/1_000_000_000:
		ns = math.MaxInt64
	case secs < math.MinInt64/1_000_000_000:
		ns = math.MinInt64
	default:
		ns = secs * 1e9
	}
	return ns + nanos
}
