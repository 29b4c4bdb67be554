package forward

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dicominbox/dicominbox/store/index"
)

// SchemaVersion is the version of the event schemas (docs/kafka-events.md,
// docs/schema/*.v1.json). It changes only when a field changes meaning or
// goes away; new optional fields keep it.
const SchemaVersion = 1

// Event types: the event_type field and the ce_type header.
const (
	TypeInstanceStored      = "io.github.dicominbox.instance.stored"
	TypeAssociationRejected = "io.github.dicominbox.association.rejected"
	TypeAssociationAborted  = "io.github.dicominbox.association.aborted"
	TypeStudyComplete       = "io.github.dicominbox.study.complete"
)

// timeFormat is RFC 3339 in UTC with milliseconds.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// InstanceEvent is the value of an instance event (JSON), one per stored
// instance. Every field is always present; text fields are UTF-8.
type InstanceEvent struct {
	EventID       string `json:"event_id"` // UUIDv7, unique: consumers de-duplicate on it
	EventType     string `json:"event_type"`
	SchemaVersion int    `json:"schema_version"`
	EventTime     string `json:"event_time"` // when the event was written to the outbox
	NodeID        string `json:"node_id"`
	Tenant        string `json:"tenant"`

	PatientID         string `json:"patient_id"`
	PatientName       string `json:"patient_name"`
	StudyInstanceUID  string `json:"study_instance_uid"`
	SeriesInstanceUID string `json:"series_instance_uid"`
	SOPInstanceUID    string `json:"sop_instance_uid"`
	SOPClassUID       string `json:"sop_class_uid"`
	AccessionNumber   string `json:"accession_number"`
	StudyDate         string `json:"study_date"`
	StudyDescription  string `json:"study_description"`
	SeriesNumber      int    `json:"series_number"`
	InstanceNumber    int    `json:"instance_number"`
	Modality          string `json:"modality"`
	NumberOfFrames    int    `json:"number_of_frames"`
	TransferSyntaxUID string `json:"transfer_syntax_uid"`

	FilePath         string `json:"file_path"`          // relative to the storage folder, '/'-separated
	FilePathAbsolute string `json:"file_path_absolute"` // on the receiving node
	SizeBytes        int64  `json:"size_bytes"`

	SourceAE   string `json:"source_ae"`
	SourceIP   string `json:"source_ip"`
	CalledAE   string `json:"called_ae"`
	ReceivedAt string `json:"received_at"`
}

// LifecycleEvent is the value of a lifecycle event (JSON). The common fields
// are always present; the others only for the types that have them.
type LifecycleEvent struct {
	EventID       string `json:"event_id"`
	EventType     string `json:"event_type"`
	SchemaVersion int    `json:"schema_version"`
	EventTime     string `json:"event_time"`
	NodeID        string `json:"node_id"`
	Tenant        string `json:"tenant"`

	// Association events (rejected, aborted).
	AssociationID uint64 `json:"association_id,omitempty"`
	CallingAE     string `json:"calling_ae,omitempty"`
	CalledAE      string `json:"called_ae,omitempty"`
	SourceIP      string `json:"source_ip,omitempty"`
	Reason        string `json:"reason,omitempty"`
	Instances     int    `json:"instances,omitempty"` // stored on the association
	Bytes         int64  `json:"bytes,omitempty"`

	// Study complete.
	StudyInstanceUID string   `json:"study_instance_uid,omitempty"`
	PatientID        string   `json:"patient_id,omitempty"`
	PatientName      string   `json:"patient_name,omitempty"`
	AccessionNumber  string   `json:"accession_number,omitempty"`
	StudyDate        string   `json:"study_date,omitempty"`
	Modalities       []string `json:"modalities,omitempty"`
	SeriesCount      int      `json:"series_count,omitempty"`
	InstanceCount    int      `json:"instance_count,omitempty"`
	SizeBytes        int64    `json:"size_bytes,omitempty"`
	FirstReceived    string   `json:"first_received,omitempty"`
	LastReceived     string   `json:"last_received,omitempty"`
}

// Builder turns instances and lifecycle facts into outbox messages. It is
// safe for concurrent use (it is read-only after construction).
type Builder struct {
	nodeID  string
	source  string            // ce_source
	tenants map[string]string // calling AE -> tenant
	root    string            // absolute storage folder
}

// NewBuilder returns a Builder for a node (empty: the host name) whose
// storage folder is root; tenants maps calling AE titles to tenant names (an
// AE not listed is its own tenant).
func NewBuilder(nodeID, root string, tenants map[string]string) *Builder {
	if strings.TrimSpace(nodeID) == "" {
		nodeID = DefaultNodeID()
	}
	t := make(map[string]string, len(tenants))
	for ae, name := range tenants {
		t[strings.TrimSpace(ae)] = name
	}
	return &Builder{nodeID: nodeID, source: "/dicominbox/" + url.PathEscape(nodeID), tenants: t, root: root}
}

// DefaultNodeID is the host name (or "dicominbox" when it is unknown).
func DefaultNodeID() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "dicominbox"
}

// NodeID returns the node id the events carry.
func (b *Builder) NodeID() string { return b.nodeID }

// Tenant maps a calling AE title to its tenant.
func (b *Builder) Tenant(callingAE string) string {
	ae := strings.TrimSpace(callingAE)
	if t, ok := b.tenants[ae]; ok {
		return t
	}
	return ae
}

// newID returns a UUIDv7 (time-ordered, RFC 9562).
func newID() (string, error) {
	u, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("event id: %w", err)
	}
	return u.String(), nil
}

// headers are the CloudEvents binary-mode headers (Kafka protocol binding).
func (b *Builder) headers(id, typ string, at time.Time, subject string) []index.OutboxHeader {
	h := []index.OutboxHeader{
		{Key: "ce_specversion", Value: "1.0"},
		{Key: "ce_id", Value: id},
		{Key: "ce_type", Value: typ},
		{Key: "ce_source", Value: b.source},
		{Key: "ce_time", Value: at.UTC().Format(time.RFC3339Nano)},
		{Key: "content-type", Value: "application/json"},
	}
	if subject != "" {
		h = append(h, index.OutboxHeader{Key: "ce_subject", Value: subject})
	}
	return h
}

// Instance builds the event of an instance being indexed; it has the shape
// of index.OutboxFunc, and runs inside the index transaction.
func (b *Builder) Instance(in *index.Instance) (index.OutboxMessage, error) {
	id, err := newID()
	if err != nil {
		return index.OutboxMessage{}, err
	}
	ev := InstanceEvent{
		EventID: id, EventType: TypeInstanceStored, SchemaVersion: SchemaVersion,
		EventTime: formatTime(time.Now()), NodeID: b.nodeID, Tenant: b.Tenant(in.CallingAE),
		PatientID: in.PatientID, PatientName: in.PatientName,
		StudyInstanceUID: in.StudyInstanceUID, SeriesInstanceUID: in.SeriesInstanceUID,
		SOPInstanceUID: in.SOPInstanceUID, SOPClassUID: in.SOPClassUID,
		AccessionNumber: in.AccessionNumber, StudyDate: in.StudyDate, StudyDescription: in.StudyDescription,
		SeriesNumber: in.SeriesNumber, InstanceNumber: in.InstanceNumber,
		Modality: in.Modality, NumberOfFrames: in.NumberOfFrames, TransferSyntaxUID: in.TransferSyntaxUID,
		FilePath: in.Path, FilePathAbsolute: filepath.Join(b.root, filepath.FromSlash(in.Path)), SizeBytes: in.SizeBytes,
		SourceAE: in.CallingAE, SourceIP: in.SourceIP, CalledAE: in.CalledAE,
		ReceivedAt: formatTime(in.ReceivedAt),
	}
	v, err := json.Marshal(ev)
	if err != nil {
		return index.OutboxMessage{}, fmt.Errorf("instance event: %w", err)
	}
	return index.OutboxMessage{
		Stream: index.StreamInstance, Key: in.StudyInstanceUID,
		Headers: b.headers(id, TypeInstanceStored, in.ReceivedAt, in.SOPInstanceUID), Value: v,
	}, nil
}

// Lifecycle completes ev (id, type, version, time, node, tenant from
// tenantAE) and returns its outbox message, keyed by key.
func (b *Builder) Lifecycle(typ, key, tenantAE string, at time.Time, ev LifecycleEvent) (index.OutboxMessage, error) {
	id, err := newID()
	if err != nil {
		return index.OutboxMessage{}, err
	}
	if at.IsZero() {
		at = time.Now()
	}
	ev.EventID, ev.EventType, ev.SchemaVersion = id, typ, SchemaVersion
	ev.EventTime, ev.NodeID, ev.Tenant = formatTime(at), b.nodeID, b.Tenant(tenantAE)
	v, err := json.Marshal(ev)
	if err != nil {
		return index.OutboxMessage{}, fmt.Errorf("lifecycle event: %w", err)
	}
	return index.OutboxMessage{Stream: index.StreamLifecycle, Key: key,
		Headers: b.headers(id, typ, at, ""), Value: v}, nil
}
