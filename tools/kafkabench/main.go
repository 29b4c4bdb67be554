// Command kafkabench supports the Kafka part of `make bench` (tools/bench.sh,
// tools/bench_kafka.sh); it is a benchmark tool, not part of dicominbox.
//
//	kafkabench broker [--topic T]   run an in-process Kafka broker (kfake) on
//	                                127.0.0.1, print its address, serve until
//	                                SIGINT/SIGTERM
//	kafkabench latency [flags]      measure the time from C-STORE-RSP to the
//	                                instance's event being readable by a consumer
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/dicominbox/dicominbox/app"
	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/scp/uid"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: kafkabench broker|latency [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "broker":
		err = broker(os.Args[2:])
	case "latency":
		err = latency(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kafkabench:", err)
		os.Exit(1)
	}
}

func broker(args []string) error {
	fs := flag.NewFlagSet("broker", flag.ContinueOnError)
	topic := fs.String("topic", app.DefaultKafkaTopic, "topic to create")
	partitions := fs.Int("partitions", 3, "partitions of the topic")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(int32(*partitions), *topic))
	if err != nil {
		return fmt.Errorf("start kfake: %w", err)
	}
	defer c.Close()
	fmt.Println(c.ListenAddrs()[0])
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}

const ctStorage = "1.2.840.10008.5.1.4.1.1.2"

// dataSet is a CT data set (Implicit VR Little Endian) with size bytes of pixel data.
func dataSet(sop, study string, n, size int) []byte {
	var b []byte
	el := func(group, elem uint16, v string) {
		if len(v)%2 == 1 {
			v += "\x00"
		}
		b = binary.LittleEndian.AppendUint16(b, group)
		b = binary.LittleEndian.AppendUint16(b, elem)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
	}
	el(0x0008, 0x0016, ctStorage)
	el(0x0008, 0x0018, sop)
	el(0x0008, 0x0060, "CT")
	el(0x0010, 0x0010, "Bench^Latency")
	el(0x0010, 0x0020, "BENCH")
	el(0x0020, 0x000D, study)
	el(0x0020, 0x000E, study+".1")
	el(0x0020, 0x0013, fmt.Sprint(n))
	el(0x7FE0, 0x0010, string(make([]byte, size)))
	return b
}

func latency(args []string) error {
	fs := flag.NewFlagSet("latency", flag.ContinueOnError)
	n := fs.Int("n", 400, "instances per phase")
	size := fs.Int("size", 512<<10, "pixel data bytes per instance")
	gap := fs.Duration("gap", 20*time.Millisecond, "pause between instances in the idle phase")
	noSync := fs.Bool("no-sync", false, "receiver without fsync")
	cpuProfile := fs.String("cpu-profile", "", "write a CPU profile of the whole process (receiver, broker, consumer) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, app.DefaultKafkaTopic))
	if err != nil {
		return fmt.Errorf("start kfake: %w", err)
	}
	defer c.Close()
	brokerAddr := c.ListenAddrs()[0]
	dir, err := os.MkdirTemp("", "kafkabench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	cfg := app.DefaultConfig()
	cfg.Bind, cfg.Port, cfg.StorageDir, cfg.MinFreeMB, cfg.NoSync = "127.0.0.1", 0, dir, 0, *noSync
	cfg.Kafka = app.KafkaConfig{Enabled: true, Brokers: []string{brokerAddr}, Topic: app.DefaultKafkaTopic, ClientID: "kafkabench"}
	e := app.NewEngine(cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err := e.Start(); err != nil {
		return err
	}
	defer e.Close(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	type seen struct {
		sop string
		at  time.Time
	}
	consumed := make(chan seen, 4*(*n))
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{brokerAddr}, Topic: app.DefaultKafkaTopic, Partition: 0,
		MinBytes: 1, MaxBytes: 10 << 20, MaxWait: 5 * time.Millisecond,
		// kafka-go waits ReadBackoffMin (100 ms) after an empty fetch by default.
		ReadBackoffMin: time.Millisecond, ReadBackoffMax: 5 * time.Millisecond})
	defer r.Close()
	go func() {
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				return
			}
			at := time.Now()
			var ev struct {
				SOP string `json:"sop_instance_uid"`
			}
			if json.Unmarshal(m.Value, &ev) == nil {
				consumed <- seen{ev.SOP, at}
			}
		}
	}()

	fmt.Printf("kafkabench latency: %d instances × %d KiB per phase, receiver fsync %v, kfake %s, go %s\n",
		*n, *size>>10, !*noSync, brokerAddr, "in-process")
	for phase, pause := range []time.Duration{*gap, 0} {
		name := fmt.Sprintf("idle (one instance every %v)", *gap)
		if pause == 0 {
			name = "loaded (back to back on one association)"
		}
		rsp := map[string]time.Time{}
		cl, err := scp.Dial(ctx, e.Addr().String(), scp.DialConfig{CalledAE: cfg.AETitle, Contexts: []scp.ProposedContext{
			{AbstractSyntax: ctStorage, TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}}}})
		if err != nil {
			return err
		}
		study := fmt.Sprintf("1.2.826.0.1.3680043.10.99.%d.%d", time.Now().Unix(), phase)
		start := time.Now()
		for i := range *n {
			sop := fmt.Sprintf("%s.%d", study, i+1)
			st, err := cl.Store(ctx, ctStorage, sop, uid.ImplicitVRLittleEndian, bytes.NewReader(dataSet(sop, study, i+1, *size)))
			at := time.Now()
			if err != nil || st.Code != 0 {
				return fmt.Errorf("C-STORE %s: %04X %v", sop, st.Code, err)
			}
			rsp[sop] = at
			if pause > 0 {
				time.Sleep(pause)
			}
		}
		sendTime := time.Since(start)
		cl.Release(ctx)
		var lat []time.Duration
		got := map[string]time.Time{}
		for len(got) < *n {
			select {
			case s := <-consumed:
				if _, ok := rsp[s.sop]; ok {
					if _, dup := got[s.sop]; !dup {
						got[s.sop] = s.at
					}
				}
			case <-time.After(30 * time.Second):
				return errors.New("events missing after 30 s")
			}
		}
		for sop, at := range got {
			lat = append(lat, at.Sub(rsp[sop]))
		}
		slices.Sort(lat)
		q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
		fmt.Printf("%-44s C-STORE-RSP -> event readable: median %6.2f ms, p99 %6.2f ms, max %6.2f ms (%d events, %.0f inst/s sent)\n",
			name, ms(q(0.5)), ms(q(0.99)), ms(lat[len(lat)-1]), len(lat), float64(*n)/sendTime.Seconds())
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
