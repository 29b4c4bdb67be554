# tools/bench_kafka.sh: the Kafka part of tools/bench.sh, which sources it.
# With the receiver "ours-kafka" in BENCH_RECEIVERS, an in-process Kafka broker (kfake, run by
# tools/kafkabench) serves the whole benchmark on 127.0.0.1, `dicominbox serve --kafka-brokers`
# forwards every stored instance to it, and the report gets (1) the throughput with Kafka on as a
# ratio to Kafka off per case, (2) the time from C-STORE-RSP to the event being readable by a
# consumer (kafkabench latency: median and p99). Environment:
#   BENCH_KAFKA_LAT_N=400   instances per latency phase
KAFKA_PID="" KAFKA_BROKERS=""

kafka_wanted() { [[ " $RECEIVERS " == *" ours-kafka "* ]]; }

# kafka_setup: build tools/kafkabench, start the broker, set KAFKA_BROKERS.
kafka_setup() {
    kafka_wanted || return 0
    local i
    go build -o build/kafkabench ./tools/kafkabench || die "go build ./tools/kafkabench failed"
    build/kafkabench broker >"$OUT/logs/kafka.addr" 2>"$OUT/logs/kafka.log" &
    KAFKA_PID=$!
    for i in $(seq 100); do
        KAFKA_BROKERS=$(head -n 1 "$OUT/logs/kafka.addr" 2>/dev/null || true)
        [[ -n $KAFKA_BROKERS ]] && break
        sleep 0.1
    done
    [[ -n $KAFKA_BROKERS ]] || die "the Kafka broker did not start; log: $OUT/logs/kafka.log"
    log "Kafka broker (kfake) on $KAFKA_BROKERS"
}

kafka_cleanup() {
    [[ -n $KAFKA_PID ]] && kill -TERM "$KAFKA_PID" 2>/dev/null || true
    KAFKA_PID=""
}

# kafka_report: Markdown on stdout (after report).
kafka_report() {
    kafka_wanted || return 0
    local cs label off on
    echo
    echo "## Kafka forwarding on (in-process kfake broker on 127.0.0.1)"
    echo
    echo "| case | dicominbox | dicominbox + Kafka | Kafka on ÷ off |"
    echo "|---|---:|---:|---:|"
    for cs in $CASES; do
        read -r _ _ _ label <<<"$(case_spec "$cs")"
        read -r n _ <<<"$(rate "$cs")"
        off=$(median "$cs" ours 4) on=$(median "$cs" ours-kafka 4)
        [[ -n $off && -n $on ]] || continue
        awk -v l="$label" -v n="$n" -v a="$off" -v b="$on" \
            'BEGIN { printf "| %s | %.0f inst/s | %.0f inst/s | %.2f |\n", l, n / a, n / b, a / b }'
    done
    echo
    echo '```'
    kafka_cleanup
    sleep "$PAUSE"
    build/kafkabench latency -n "${BENCH_KAFKA_LAT_N:-400}" 2>&1 || echo "kafkabench latency failed"
    echo '```'
}
