//! The queries both engines run. Every range, offset, `@` time and subquery step is a multiple
//! of 15 s (and evaluation times are 7 s past a minute), so no window boundary falls on a sample
//! (see `promqltest::synth`): Prometheus 2.42's closed windows `[t-r, t]` then select exactly
//! what Prometheus 3's left-open windows `(t-r, t]` select.
//!
//! Nested subqueries use an inner range that is not a multiple of the inner step's grid seen
//! from the outer steps (`[5m30s:1m]` inside `[10m:2m]`): otherwise the inner window would start
//! exactly on an inner step, which 2.42 includes and 3.x excludes.
//!
//! Left out on purpose, because their semantics changed between 2.42 and 3.x:
//! - regex matchers relying on `.` matching `\n` (3.0 matches newlines; no label value here
//!   contains one, so every regex below behaves the same in both);
//! - ties in `topk`/`bottomk`: 2.42 pops and pushes its heap where 3.x replaces the top and
//!   fixes the heap, so equal values may pick different series; they run on distinct values;
//! - `le` label normalisation of scraped classic histograms (3.0; data here is backfilled as is);
//! - experimental functions (`limitk`, `limit_ratio`, `sort_by_label`, `mad_over_time`, ...)
//!   and native-histogram functions.

use crate::compare::Mode;

pub struct Q {
    pub q: String,
    pub mode: Mode,
}

const EXACT: Mode = Mode { ordered: false, tolerance: 0.0 };
const ORDERED: Mode = Mode { ordered: true, tolerance: 0.0 };
/// For float sums: Prometheus 3 sums with Kahan compensation and averages as sum/count where
/// 2.42 added plainly and kept an incremental mean, so results differ in the last digits.
const APPROX: Mode = Mode { ordered: false, tolerance: 1e-12 };
/// Go's math functions are not correctly rounded; results may differ by an ulp or two.
const GO_MATH: Mode = Mode { ordered: false, tolerance: 1e-14 };

fn add(out: &mut Vec<Q>, mode: Mode, qs: &[&str]) {
    out.extend(qs.iter().map(|q| Q { q: q.to_string(), mode }));
}

/// Range functions over every kind of series and two window sizes.
fn range_functions(out: &mut Vec<Q>) {
    let funcs = [
        "rate",
        "irate",
        "increase",
        "delta",
        "idelta",
        "resets",
        "changes",
        "min_over_time",
        "max_over_time",
        "count_over_time",
        "last_over_time",
        "present_over_time",
        "sum_over_time",
        "deriv",
        "absent_over_time",
    ];
    let metrics = [
        "http_requests_total",
        "process_cpu_seconds_total",
        "node_temperature_celsius",
        "flaky_gauge",
        "weird_values",
        "batch_last_success",
    ];
    for f in funcs {
        for m in metrics {
            // A series restarting after a gap with a small first value hits Prometheus 3's
            // reordered zero-point check in rate/increase extrapolation (see synth's docs).
            // The same holds for gauges starting near zero at the start of the data.
            if matches!(f, "rate" | "increase")
                && matches!(m, "flaky_gauge" | "node_temperature_celsius")
            {
                continue;
            }
            for r in ["1m", "5m"] {
                out.push(Q { q: format!("{f}({m}[{r}])"), mode: EXACT });
            }
        }
    }
    for m in ["node_temperature_celsius", "flaky_gauge", "queue_depth", "weird_values"] {
        for q in ["0", "0.25", "0.5", "0.9", "1"] {
            out.push(Q { q: format!("quantile_over_time({q}, {m}[10m])"), mode: EXACT });
        }
        out.push(Q { q: format!("predict_linear({m}[10m], 600)"), mode: APPROX });
        out.push(Q { q: format!("avg_over_time({m}[5m])"), mode: APPROX });
        out.push(Q { q: format!("stddev_over_time({m}[5m])"), mode: APPROX });
        out.push(Q { q: format!("stdvar_over_time({m}[5m])"), mode: APPROX });
    }
}

fn selectors(out: &mut Vec<Q>) {
    add(
        out,
        EXACT,
        &[
            "up",
            "http_requests_total",
            "http_requests_total{method=\"GET\"}",
            "http_requests_total{method!=\"GET\"}",
            "http_requests_total{code=~\"4..|5..\"}",
            "http_requests_total{code!~\"2..\"}",
            "http_requests_total{code=~\"\"}",
            "http_requests_total{code!=\"\", method=~\"G.*\", instance!~\"host-1.*\"}",
            "{__name__=~\"node_.*\"}",
            "{__name__=~\"queue_depth|up\", instance=\"host-0:9100\"}",
            "{job=\"api\", __name__!~\"http_.*\"}",
            "http_requests_total{nonexistent=\"\"}",
            "http_requests_total{nonexistent!=\"\"}",
            "http_requests_total{code=~\"(?i)5.*\"}",
            "weird_values{note=\"quote \\\" backslash \\\\ é\"}",
            "weird_values{note=~\".*é\"}",
            "flaky_gauge",
            "batch_last_success",
            "nonexistent_metric",
            "node_temperature_celsius offset 5m",
            "node_temperature_celsius offset -10m",
            "node_temperature_celsius offset 1h30m",
            "node_temperature_celsius @ 1700003587",
            "node_temperature_celsius @ 1700003587 offset 2m",
            "node_temperature_celsius @ start()",
            "node_temperature_celsius @ end()",
            "flaky_gauge offset 3m",
            "batch_last_success offset 30m",
        ],
    );
}

fn instant_range_vectors(out: &mut Vec<Q>) {
    // Only valid as instant queries; range queries of these must fail on both sides.
    add(
        out,
        EXACT,
        &[
            "node_load1[1m]",
            "flaky_gauge[5m]",
            "http_requests_total{code=\"500\"}[2m] offset 1m",
            "rate(http_requests_total[5m])[10m:1m]",
            "weird_values[1m]",
        ],
    );
}

fn rates_and_histograms(out: &mut Vec<Q>) {
    add(
        out,
        EXACT,
        &[
            "rate(http_requests_total[5m] offset 10m)",
            "rate(http_requests_total[5m] @ 1700003587)",
            "increase(http_requests_total[1h])",
            "irate(http_requests_total{code=\"200\"}[2m])",
            "rate(http_request_duration_seconds_count[5m])",
            "rate(http_request_duration_seconds_sum[5m]) / rate(http_request_duration_seconds_count[5m])",
            "histogram_quantile(0.5, rate(http_request_duration_seconds_bucket[5m]))",
            "histogram_quantile(0.9, rate(http_request_duration_seconds_bucket[5m]))",
            "histogram_quantile(1.5, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
            "histogram_quantile(-1, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
            "histogram_quantile(0.75, http_request_duration_seconds_bucket)",
            "histogram_quantile(0.9, rate(http_request_duration_seconds_bucket{status=\"500\"}[1m]))",
            "sum by (le) (http_request_duration_seconds_bucket{le=~\"0.1|1|\\\\+Inf\"})",
            "rate(http_requests_total[5m]) * 60",
            "delta(node_temperature_celsius[10m])",
            "deriv(queue_depth[10m])",
            "changes(up[30m])",
            "resets(http_requests_total[1h])",
            "timestamp(node_load1)",
            "timestamp(flaky_gauge offset 1m)",
            "timestamp(rate(http_requests_total[5m]))",
        ],
    );
}

fn aggregations(out: &mut Vec<Q>) {
    add(
        out,
        EXACT,
        &[
            "sum(http_requests_total)",
            "sum by (method) (http_requests_total)",
            "sum without (instance, code) (http_requests_total)",
            "sum by (__name__) ({__name__=~\"http_requests_total|up\"})",
            "sum(queue_depth)",
            "min(node_temperature_celsius)",
            "max by (instance) (node_temperature_celsius)",
            "min without (sensor) (node_temperature_celsius)",
            "count(http_requests_total)",
            "count by (code) (http_requests_total)",
            "count without (method) (http_requests_total)",
            "count(flaky_gauge)",
            "count(weird_values)",
            "min(weird_values)",
            "max(weird_values)",
            "sum by (kind) (weird_values)",
            "group by (job) (up)",
            "group(http_requests_total)",
            "topk(3, http_requests_total)",
            "topk by (code) (1, http_requests_total)",
            "bottomk(2, node_temperature_celsius)",
            "bottomk without (sensor) (1, node_temperature_celsius)",
            "topk(2, weird_values)",
            "bottomk(2, weird_values)",
            "topk(scalar(count(up)), queue_depth)",
            "quantile(0.5, node_temperature_celsius)",
            "quantile by (instance) (0.9, node_temperature_celsius)",
            "quantile(0, queue_depth)",
            "quantile(1, queue_depth)",
            "quantile(0.3, weird_values)",
            "quantile(2, node_load1)",
            "count_values(\"value\", up)",
            "count_values by (instance) (\"v\", queue_depth)",
            "count_values(\"temp\", node_temperature_celsius)",
            "count_values(\"w\", weird_values)",
            "max(max_over_time(node_temperature_celsius[10m]))",
            "count(count by (instance) (up))",
            "sum by (instance) (up) == bool 1",
        ],
    );
    add(
        out,
        APPROX,
        &[
            "sum(rate(http_requests_total[5m])) by (code)",
            "avg(node_temperature_celsius)",
            "avg by (instance) (node_load1)",
            "avg without (queue) (queue_depth)",
            "avg(weird_values)",
            "stddev(node_temperature_celsius)",
            "stdvar by (instance) (node_temperature_celsius)",
            "stddev(queue_depth)",
            "sum(node_load1)",
            "sum by (sensor) (node_temperature_celsius)",
            "sum(rate(http_request_duration_seconds_sum[5m]))",
            "sum without (code) (rate(http_requests_total[5m]))",
            "avg(rate(process_cpu_seconds_total[5m]))",
        ],
    );
}

fn binary_ops(out: &mut Vec<Q>) {
    add(
        out,
        EXACT,
        &[
            "1 + 2 * 3 - 4 / 2",
            "2 ^ 3 ^ 2",
            "-2 ^ 2",
            "10 % 3",
            "-7 % 3",
            "1 > bool 2",
            "node_load1 * 2",
            "2 - node_load1",
            "node_load1 / 0",
            "-node_load1",
            "node_temperature_celsius % 7",
            "node_temperature_celsius ^ 2",
            "queue_depth / queue_depth",
            "node_temperature_celsius > 0",
            "node_temperature_celsius < bool -5",
            "node_temperature_celsius >= 10 <= 30",
            "queue_depth == 0",
            "queue_depth != bool 0",
            "0 < node_load1",
            "up == 0",
            "http_requests_total / on (instance) group_left up",
            "http_requests_total * ignoring (method, code) group_left up",
            "up * on (instance) group_right (method, code) http_requests_total",
            "node_temperature_celsius - on (instance) group_left node_load1",
            "node_temperature_celsius - ignoring (sensor) group_left node_load1",
            "sum by (instance) (http_requests_total) / on (instance) node_load1",
            "rate(http_requests_total{code=\"500\"}[5m]) / ignoring (code) rate(http_requests_total{code=\"200\"}[5m])",
            "http_requests_total{code=\"500\"} > bool ignoring (code) http_requests_total{code=\"404\"}",
            "queue_depth and node_load1",
            "queue_depth and on (instance) node_load1",
            "queue_depth and on (instance) (node_load1 > 2)",
            "queue_depth or node_load1",
            "flaky_gauge or on (instance) up",
            "queue_depth unless on (instance) (node_load1 > 1)",
            "up unless flaky_gauge",
            "up unless on (instance) flaky_gauge",
            "(flaky_gauge > 10) or (up * 100)",
            "weird_values > 0",
            "weird_values * 0",
            "weird_values == weird_values",
            "weird_values != bool weird_values",
            "node_load1 + on () group_left scalar(sum(up))",
            "node_load1 + scalar(up{instance=\"host-0:9100\"})",
            "vector(1) + vector(2)",
            "vector(time()) - on () group_left node_load1",
            "sum(up) / count(up)",
            "http_requests_total > 1000 < 3000",
            "(http_requests_total > bool 1000) + on (instance, method, code) group_left up",
        ],
    );
}

fn functions(out: &mut Vec<Q>) {
    add(
        out,
        EXACT,
        &[
            "abs(node_temperature_celsius)",
            "abs(queue_depth)",
            "ceil(node_temperature_celsius)",
            "floor(node_temperature_celsius)",
            "round(node_temperature_celsius)",
            "round(node_load1, 0.1)",
            "round(node_temperature_celsius, 5)",
            "round(queue_depth / 2)",
            "clamp(node_temperature_celsius, -5, 15)",
            "clamp(node_temperature_celsius, 15, -5)",
            "clamp_min(queue_depth, 0)",
            "clamp_max(node_load1, 1.5)",
            "sqrt(node_load1)",
            "sgn(queue_depth)",
            "deg(node_load1)",
            "rad(node_temperature_celsius)",
            "pi()",
            "abs(weird_values)",
            "ceil(weird_values)",
            "round(weird_values)",
            "clamp(weird_values, -1, 1)",
            "label_replace(up, \"host\", \"$1\", \"instance\", \"(.*):.*\")",
            "label_replace(up, \"host\", \"$1\", \"instance\", \"nomatch(.*)\")",
            "label_replace(up, \"instance\", \"\", \"instance\", \".*\")",
            "label_replace(http_requests_total, \"class\", \"${1}xx\", \"code\", \"(\\\\d)\\\\d\\\\d\")",
            "label_replace(up, \"__name__\", \"renamed\", \"job\", \"api\")",
            "label_join(up, \"combined\", \"-\", \"job\", \"instance\")",
            "label_join(http_requests_total, \"key\", \"/\", \"method\", \"code\", \"missing\")",
            "time()",
            "timestamp(vector(1))",
            "vector(time())",
            "scalar(up{instance=\"host-0:9100\"})",
            "scalar(up)",
            "minute()",
            "hour()",
            "day_of_week()",
            "day_of_month()",
            "day_of_year()",
            "days_in_month()",
            "month()",
            "year()",
            "minute(batch_last_success)",
            "hour(batch_last_success)",
            "year(vector(1700003587))",
            "month(node_load1 * 1e9)",
            "absent(up)",
            "absent(nonexistent_metric)",
            "absent(nonexistent_metric{job=\"x\", instance=~\"y\"})",
            "absent(flaky_gauge{instance=\"host-0:9100\"})",
            "absent(batch_last_success)",
            "absent_over_time(batch_last_success[10m])",
            "absent_over_time(nonexistent{a=\"b\"}[5m])",
            "absent(sum(nonexistent_metric))",
            "vector(1)",
            "sgn(weird_values)",
        ],
    );
    add(
        out,
        ORDERED,
        &[
            "sort(node_temperature_celsius)",
            "sort_desc(node_temperature_celsius)",
            "sort(queue_depth)",
            "sort(weird_values)",
            "sort_desc(weird_values)",
        ],
    );
    add(
        out,
        Mode { ordered: true, ..APPROX },
        &["sort_desc(sum by (code) (rate(http_requests_total[5m])))"],
    );
}

/// Go's math library (a Cephes port) and Rust's libm round differently in the last place.
fn transcendental(out: &mut Vec<Q>) {
    add(
        out,
        GO_MATH,
        &[
            "sqrt(node_temperature_celsius)",
            "exp(node_load1)",
            "ln(node_load1)",
            "log2(node_load1)",
            "log10(node_temperature_celsius)",
            "sin(node_load1)",
            "cos(node_load1)",
            "tan(node_load1)",
            "asin(node_load1 / 4)",
            "acos(node_load1 / 4)",
            "atan(node_temperature_celsius)",
            "sinh(node_load1)",
            "cosh(node_load1)",
            "tanh(node_load1)",
            "asinh(node_temperature_celsius)",
            "acosh(node_load1 + 1)",
            "atanh(node_load1 / 5)",
            "exp(weird_values)",
            "5 atan2 3",
        ],
    );
}

fn subqueries(out: &mut Vec<Q>) {
    add(
        out,
        EXACT,
        &[
            "max_over_time(rate(http_requests_total[5m])[30m:1m])",
            "min_over_time(node_temperature_celsius[10m:30s])",
            "max_over_time(deriv(queue_depth[5m])[20m:2m])",
            "count_over_time(flaky_gauge[30m:1m])",
            "last_over_time(node_load1[10m:])",
            "rate(http_requests_total[5m:15s])",
            "increase(http_requests_total[10m:30s])",
            "max_over_time(node_temperature_celsius[10m:1m] offset 5m)",
            "max_over_time(node_temperature_celsius[10m:1m] @ 1700003587)",
            "min_over_time((node_temperature_celsius @ 1700003587)[5m:1m])",
            "quantile_over_time(0.9, node_load1[20m:1m])",
            "sum_over_time(up[1h:5m])",
            "present_over_time(batch_last_success[20m:1m])",
            "changes(up[1h:1m])",
            "max_over_time(max_over_time(node_load1[5m30s:1m])[10m:2m])",
            "min_over_time(vector(time())[5m:1m])",
            "resets(http_requests_total[1h:1m])",
            "delta((node_temperature_celsius * 2)[10m:1m])",
        ],
    );
    add(
        out,
        APPROX,
        &[
            "avg_over_time(rate(http_requests_total[5m])[30m:1m])",
            "stddev_over_time(node_load1[30m:1m])",
        ],
    );
}

/// Modifiers, matching edge cases and combinations.
fn combinations(out: &mut Vec<Q>) {
    add(
        out,
        EXACT,
        &[
            "rate(http_requests_total[5m] offset -5m)",
            "http_requests_total offset -1h",
            "sum(http_requests_total @ end())",
            "sum(http_requests_total @ start()) - sum(http_requests_total)",
            "rate(http_requests_total[10m] @ end() offset 5m)",
            "max_over_time(node_load1[10m:1m] @ end())",
            "min_over_time(node_load1[10m:1m] @ start() offset 2m)",
            "node_load1 @ 1700003587 offset -3m",
            "time() - timestamp(batch_last_success)",
            "time() - batch_last_success",
            "timestamp(node_load1 @ 1700003587)",
            "node_temperature_celsius - on (instance) group_left (sensor) node_load1",
            "node_load1 + on (instance) group_right (sensor) node_temperature_celsius",
            "node_temperature_celsius / ignoring (sensor) group_left node_load1",
            "up * on () group_left count(up)",
            "vector(1) and on () up",
            "up or on () vector(0)",
            "sum(nonexistent_metric) or vector(0)",
            "http_requests_total and http_requests_total{code=\"200\"}",
            "http_requests_total unless http_requests_total{code=\"200\"}",
            "http_requests_total{code=\"200\"} or http_requests_total{method=\"GET\"}",
            "(node_temperature_celsius > 0) and on (instance, sensor) (node_temperature_celsius < 20)",
            "node_temperature_celsius > on (instance) group_left node_load1",
            "node_temperature_celsius > bool on (instance) group_left node_load1",
            "count by (instance) (node_temperature_celsius > 5)",
            "sum by (instance) (rate(http_requests_total{code=~\"5..\"}[5m])) > 0",
            "bottomk(3, rate(http_request_duration_seconds_sum[5m]))",
            "topk(1, node_temperature_celsius) by (instance)",
            "count_values(\"code\", http_requests_total) ",
            "quantile(0.5, rate(http_requests_total[5m]))",
            "quantile without (sensor) (0.25, node_temperature_celsius)",
            "stddev without (code) (http_requests_total)",
            "max by (code) (irate(http_requests_total[1m]))",
            "min(min_over_time(flaky_gauge[2m]))",
            "count(present_over_time(flaky_gauge[2m]))",
            "last_over_time(flaky_gauge[10m])",
            "last_over_time(batch_last_success[1h])",
            "changes(flaky_gauge[30m])",
            "idelta(queue_depth[1m])",
            "delta(http_requests_total[10m])",
            "irate(http_requests_total[10m])",
            "deriv(http_requests_total[10m])",
            "predict_linear(http_requests_total[10m], 3600)",
            "predict_linear(node_temperature_celsius[5m] offset 1m, -600)",
            "label_replace(rate(http_requests_total[5m]), \"m\", \"$1\", \"method\", \"(G)ET\")",
            "label_join(label_replace(up, \"a\", \"x\", \"\", \"\"), \"b\", \",\", \"a\", \"job\")",
            "sort(label_replace(node_load1, \"x\", \"$0\", \"instance\", \".*\"))",
            "scalar(sum(up)) * node_load1",
            "scalar(nonexistent_metric)",
            "vector(scalar(sum(queue_depth)))",
            "abs(-node_temperature_celsius)",
            "-(-queue_depth)",
            "+node_load1",
            "(node_load1)",
            "node_load1 > 1 > 2",
            "2 > bool 1 > bool 0",
            "1 and 1",
            "queue_depth == bool queue_depth",
            "queue_depth * -1 > queue_depth",
            "http_requests_total % 1000 > bool 500",
            "round(http_requests_total / 1000) * 1000",
            "floor(node_load1 * 1000) / 1000",
            "clamp_min(clamp_max(node_temperature_celsius, 10), -10)",
            "day_of_week(batch_last_success)",
            "days_in_month(vector(1709251200))",
            "hour(vector(1700003587) + 3600 * 5)",
            "absent(up{instance=\"host-9:9100\"})",
            "absent(up{job=~\"a.*\"})",
            "absent_over_time(flaky_gauge[1m])",
            "absent_over_time(up[5m] offset 3h)",
            "count_over_time(http_requests_total[1m] offset -1m)",
            "sum_over_time(http_requests_total[30s])",
            "rate(http_requests_total[15s])",
            "max_over_time(node_load1[30s])",
            "last_over_time(node_load1[15s])",
        ],
    );
    add(
        out,
        APPROX,
        &[
            "topk(1, sum by (method) (rate(http_requests_total[5m])))",
            "avg by (code) (http_requests_total)",
            "avg(rate(http_requests_total[5m])) by (method)",
            "stddev by (instance) (node_load1)",
            "sum(node_temperature_celsius) / count(node_temperature_celsius)",
            "avg_over_time(flaky_gauge[10m])",
            "avg_over_time(queue_depth[1h])",
            "stddev_over_time(http_requests_total[10m])",
            "sum(sum_over_time(node_load1[10m]))",
        ],
    );
}

fn errors(out: &mut Vec<Q>) {
    // Both sides must reject these (messages are compared elsewhere).
    add(
        out,
        EXACT,
        &[
            "label_replace(up, \"host\", \"$1\", \"instance\", \"(.*\")",
            "http_requests_total + on (instance) up",
            "sum by (instance) (http_requests_total) * on (instance) group_left http_requests_total",
            "count_values(\"instance\", up)",
            "label_join(up, \"instance\", \"-\", \"job\") + label_join(up, \"instance\", \"-\", \"job\")",
            "{__name__=~\"http_requests_total|queue_depth\"} - 1",
            "rate(http_requests_total[5m]) or label_replace(rate(http_requests_total[5m]), \"code\", \"x\", \"code\", \"500\")",
            // Names dropped at the operator (Prometheus' default): equal label sets collide there.
            "rate({__name__=~\"process_cpu_seconds_total|up\"}[5m])",
            "sum(rate({__name__=~\"process_cpu_seconds_total|up\"}[5m]))",
            "sum(-{__name__=~\"process_cpu_seconds_total|up\"})",
            "count(abs({__name__=~\"process_cpu_seconds_total|up\"}))",
            "max_over_time(rate({__name__=~\"process_cpu_seconds_total|up\"}[5m])[10m:1m])",
        ],
    );
}

fn name_dropping(out: &mut Vec<Q>) {
    // Later operators no longer see a name an earlier one dropped.
    add(
        out,
        EXACT,
        &[
            "label_replace(rate(process_cpu_seconds_total[5m]), \"name\", \"$1\", \"__name__\", \"(.+)\")",
            "count by (__name__) (abs({__name__=~\"up|node_load1\"}))",
            "count_values by (__name__) (\"v\", round(up * 0))",
            "sum by (__name__) (up * 2)",
            "sum by (__name__) (up > bool 0)",
            "sum by (__name__) (up > 0)",
        ],
    );
    add(
        out,
        APPROX,
        &[
            "sum by (__name__) (rate({__name__=~\"process_cpu_seconds_total|http_requests_total\"}[5m]))",
        ],
    );
}

/// Differences the randomized test (`differential_random.rs`) found, kept as fixed cases.
fn random_regressions(out: &mut Vec<Q>) {
    // Go's math.Max/Min: an infinity on the winning side beats NaN, +0 beats -0.
    add(
        out,
        EXACT,
        &[
            "clamp_min(weird_values, NaN)",
            "clamp_max(weird_values, NaN)",
            "clamp(weird_values, NaN, NaN)",
            "clamp(weird_values * 0, 0, 1)",
            "clamp_max(-(weird_values * 0), -0)",
        ],
    );
    // Date functions of NaN, infinite and huge times: Go's int64 conversion and calendar.
    add(
        out,
        EXACT,
        &[
            "year(weird_values)",
            "month(weird_values * 1e10)",
            "day_of_week(weird_values * 1e12)",
            "day_of_month(weird_values * -1e13)",
            "day_of_year(weird_values * 1e17)",
            "days_in_month(weird_values * 1e15)",
            "hour(vector(NaN))",
            "minute(vector(-Inf))",
            "year(vector(1e19))",
            "days_in_month(vector(-1e11))",
            "day_of_week(vector(-1))",
            "year(vector(-0.5))",
        ],
    );
    // Prometheus 2's name for double_exponential_smoothing; a NaN factor passes its check.
    add(
        out,
        EXACT,
        &[
            "holt_winters(node_temperature_celsius[10m], 0.5, 0.5)",
            "holt_winters(queue_depth[5m], 0.1, 0.9)",
            "holt_winters(weird_values[5m], 0.3, 0.7)",
            "holt_winters(node_load1[5m], NaN, 0.1)",
            "holt_winters(node_load1[5m], 1, 0.5)",
            "holt_winters(node_load1[5m], 0.5, 0)",
            "holt_winters(nonexistent_metric[5m], 1, 0.5)",
        ],
    );
    // Go's math.Pow: integer exponents by repeated squaring of the mantissa, not a correctly
    // rounded pow (x^60 % y shows the last bits).
    add(
        out,
        EXACT,
        &[
            "node_load1 ^ 3",
            "node_temperature_celsius ^ 7",
            "node_load1 ^ 60 % node_load1",
            "queue_depth ^ -3",
            "weird_values ^ 5",
            "(-weird_values) ^ -2",
            "node_load1 ^ 0.5",
            "node_load1 ^ -0.5",
            "2 ^ -1074",
            "2 ^ -1080",
            "0.5 ^ -1023",
            "(-0) ^ -3",
            "(-Inf) ^ -3",
            "(-1) ^ Inf",
            "10 ^ 308 * 10",
        ],
    );
    // Go's hyperbolic functions: sinh/cosh overflow with exp, asinh/acosh stay finite.
    add(
        out,
        GO_MATH,
        &[
            "cosh(vector(710))",
            "sinh(vector(-710))",
            "sinh(vector(0.25))",
            "cosh(node_load1 * 200)",
            "sinh(node_temperature_celsius * 30)",
            "acosh(vector(1e308))",
            "asinh(vector(-1e308))",
            "asinh(weird_values)",
            "atanh(vector(-1))",
            "atanh(node_load1 / 4 - 0.5)",
        ],
    );
    // Go's Log as its amd64 assembly computes it, bit for bit (subnormals not normalised).
    add(
        out,
        EXACT,
        &[
            "ln(node_load1)",
            "ln(node_temperature_celsius)",
            "ln(http_requests_total)",
            "log2(node_load1)",
            "log10(queue_depth)",
            "ln(weird_values)",
            "ln(vector(5e-324))",
            "ln(flaky_gauge + 5e-324)",
            "log2(vector(1e-310))",
            "log10(weird_values{kind=\"tiny\"} * 1e-300)",
            "ln(vector(0))",
            "ln(vector(-1))",
            "log10(vector(1000))",
            "log10(vector(1e-5))",
            "log2(vector(10))",
        ],
    );
    // A step-invariant subquery whose range holds no step (shorter than the step) still has
    // one point per series, at the step after the evaluation time.
    add(
        out,
        EXACT,
        &[
            "(node_temperature_celsius @ start())[45s:2m] @ end()",
            "(node_temperature_celsius @ 1700005867)[1m:2m]",
            "(-node_temperature_celsius @ 1700005700)[45s:2m]",
            "(vector(1))[45s:2m]",
            "(sum(node_load1 @ 1700003587) * 2)[30s:2m]",
            "(node_load1 @ end() + time())[45s:2m]",
            "(hour(node_load1 @ end()))[45s:2m]",
            "last_over_time((node_temperature_celsius @ start())[45s:2m])",
        ],
    );
    // Scalars print without exponent (errors of range queries of range vectors are bad_data;
    // `instant_range_vectors` covers those).
    add(
        out,
        EXACT,
        &["1e308", "-(1e300 + 3600)", "5e-324 * 1", "scalar(weird_values{kind=\"tiny\"})"],
    );
}

/// The whole query set.
pub fn all() -> Vec<Q> {
    let mut out = Vec::new();
    range_functions(&mut out);
    selectors(&mut out);
    instant_range_vectors(&mut out);
    rates_and_histograms(&mut out);
    aggregations(&mut out);
    binary_ops(&mut out);
    functions(&mut out);
    transcendental(&mut out);
    subqueries(&mut out);
    combinations(&mut out);
    errors(&mut out);
    name_dropping(&mut out);
    random_regressions(&mut out);
    out
}
