package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/dicominbox/dicominbox/app"
)

// kafkaFlags defines the Kafka flags of `serve` on fs, with the defaults of
// d, and returns the function that applies one flag the user gave (by name)
// to cfg; it reports false for flags that are not Kafka's, and an error for a
// Kafka flag whose value cannot be understood (a usage error).
func kafkaFlags(fs *flag.FlagSet, d app.KafkaConfig) func(cfg *app.Config, name string) (bool, error) {
	brokers := fs.String("kafka-brokers", strings.Join(d.Brokers, ","), "Kafka brokers host:port[,host:port...]: setting them turns forwarding on (\"\" turns it off); one event per stored instance")
	topic := fs.String("kafka-topic", d.Topic, "Kafka topic of the instance events")
	lifecycle := fs.String("kafka-lifecycle-topic", d.LifecycleTopic, "Kafka topic of association/study lifecycle events (empty: none are sent)")
	clientID := fs.String("kafka-client-id", d.ClientID, "Kafka client ID")
	nodeID := fs.String("kafka-node-id", d.NodeID, "node id in every event (empty: the host name)")
	tenants := fs.String("kafka-tenants", "", "calling AE to tenant map, AE=tenant[,AE=tenant...] (an AE not listed is its own tenant)")
	useTLS := fs.Bool("kafka-tls", d.TLS.Enabled, "connect to the brokers with TLS")
	caFile := fs.String("kafka-tls-ca", d.TLS.CAFile, "PEM file of the CA that signed the brokers' certificates (empty: system roots)")
	certFile := fs.String("kafka-tls-cert", d.TLS.CertFile, "PEM client certificate for TLS (with --kafka-tls-key)")
	keyFile := fs.String("kafka-tls-key", d.TLS.KeyFile, "PEM private key of the client certificate")
	skip := fs.Bool("kafka-tls-insecure-skip-verify", d.TLS.InsecureSkipVerify, "do not verify the brokers' certificates (tests only)")
	mech := fs.String("kafka-sasl-mechanism", d.SASL.Mechanism, "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (empty: none)")
	user := fs.String("kafka-sasl-user", d.SASL.Username, "SASL user name")
	pass := fs.String("kafka-sasl-password", "", "SASL password; prefer the environment variable "+app.PasswordEnv+" (a flag is visible to other users in the process list)")
	return func(cfg *app.Config, name string) (bool, error) {
		k := &cfg.Kafka
		switch name {
		case "kafka-brokers":
			k.Brokers = splitList(*brokers)
			k.Enabled = len(k.Brokers) > 0
		case "kafka-topic":
			k.Topic = *topic
		case "kafka-lifecycle-topic":
			k.LifecycleTopic = *lifecycle
		case "kafka-client-id":
			k.ClientID = *clientID
		case "kafka-node-id":
			k.NodeID = *nodeID
		case "kafka-tenants":
			m, err := parseTenants(*tenants)
			if err != nil {
				return true, err
			}
			k.Tenants = m
		case "kafka-tls":
			k.TLS.Enabled = *useTLS
		case "kafka-tls-ca":
			k.TLS.CAFile = *caFile
		case "kafka-tls-cert":
			k.TLS.CertFile = *certFile
		case "kafka-tls-key":
			k.TLS.KeyFile = *keyFile
		case "kafka-tls-insecure-skip-verify":
			k.TLS.InsecureSkipVerify = *skip
		case "kafka-sasl-mechanism":
			k.SASL.Mechanism = *mech
		case "kafka-sasl-user":
			k.SASL.Username = *user
		case "kafka-sasl-password":
			k.SASL.Password = *pass
		default:
			return false, nil
		}
		return true, nil
	}
}

// parseTenants parses the --kafka-tenants value AE=tenant[,AE=tenant...].
// Spaces around names are ignored and so are empty items (a trailing comma);
// an item without "=", or with an empty AE title or tenant, is an error
// naming that item.
func parseTenants(s string) (map[string]string, error) {
	m := map[string]string{}
	for _, pair := range splitList(s) {
		ae, tenant, ok := strings.Cut(pair, "=")
		ae, tenant = strings.TrimSpace(ae), strings.TrimSpace(tenant)
		if !ok || ae == "" || tenant == "" {
			return nil, fmt.Errorf("invalid --kafka-tenants item %q: want AE=tenant[,AE=tenant...]", pair)
		}
		m[ae] = tenant
	}
	return m, nil
}
