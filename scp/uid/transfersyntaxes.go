package uid

// Family groups transfer syntaxes by how their pixel data (or data set) is
// encoded.
type Family string

// Transfer syntax families.
const (
	FamilyUncompressed Family = "uncompressed" // native pixel data
	FamilyDeflate      Family = "deflate"      // deflated data set, or deflated frames
	FamilyJPEG         Family = "jpeg"         // ISO 10918-1
	FamilyJPEGLS       Family = "jpeg-ls"      // ISO 14495-1
	FamilyJPEG2000     Family = "jpeg2000"     // ISO 15444-1/-2
	FamilyHTJ2K        Family = "htj2k"        // ISO 15444-15
	FamilyJPEGXL       Family = "jpeg-xl"      // ISO 18181-1
	FamilyRLE          Family = "rle"          // PS3.5 Annex G
	FamilyMPEG2        Family = "mpeg2"        // ISO 13818-2
	FamilyMPEG4        Family = "mpeg4"        // ISO 14496-10 (H.264)
	FamilyHEVC         Family = "hevc"         // ISO 23008-2 (H.265)
	FamilyJPIP         Family = "jpip"         // pixel data referenced on a JPIP server
	FamilySMPTE2110    Family = "smpte2110"    // real-time video and audio (PS3.22)
	FamilyOther        Family = "other"        // not a binary data set: RFC 2557 MIME, XML
	FamilyPrivate      Family = "private"      // vendor-defined
)

// Transfer syntax UIDs of the four native encodings.
const (
	ImplicitVRLittleEndian         = "1.2.840.10008.1.2"
	ExplicitVRLittleEndian         = "1.2.840.10008.1.2.1"
	DeflatedExplicitVRLittleEndian = "1.2.840.10008.1.2.1.99"
	ExplicitVRBigEndian            = "1.2.840.10008.1.2.2"
)

// TransferSyntax is a transfer syntax and how a receiver can treat it.
type TransferSyntax struct {
	UID, Name string
	Family    Family
	// ExplicitVR: the data set is encoded with explicit VRs.
	ExplicitVR bool
	// BigEndian: the data set is big endian (only the retired Explicit VR Big Endian).
	BigEndian bool
	// Deflated: the whole data set after the meta header is a deflate stream
	// (PS3.5 A.5). Deflated Image Frame Compression deflates only the frames
	// and has Deflated false.
	Deflated bool
	// Encapsulated: Pixel Data is encapsulated in fragments (PS3.5 A.4).
	Encapsulated bool
	// Retired: retired from the standard.
	Retired bool

	notStorable bool // see Storable
}

// Storable reports whether a data set received in this transfer syntax can be
// stored as received in a Part-10 file and be read back by other software:
// true for every native, deflated and encapsulated (compressed) syntax,
// retired JPEG processes included; false where the table below says why.
func (ts TransferSyntax) Storable() bool { return !ts.notStorable }

// native returns an uncompressed explicit VR little endian syntax.
func native(uid, name string) TransferSyntax {
	return TransferSyntax{UID: uid, Name: name, Family: FamilyUncompressed, ExplicitVR: true}
}

// encap returns an explicit VR little endian syntax with encapsulated pixel data.
func encap(uid, name string, f Family) TransferSyntax {
	return TransferSyntax{UID: uid, Name: name, Family: f, ExplicitVR: true, Encapsulated: true}
}

// retire marks ts retired.
func (ts TransferSyntax) retire() TransferSyntax { ts.Retired = true; return ts }

// transferSyntaxes lists every transfer syntax of PS3.6 Table A-1 and one
// private syntax still met in the field.
var transferSyntaxes = [...]TransferSyntax{
	// Native encodings.
	{UID: ImplicitVRLittleEndian, Name: "Implicit VR Little Endian", Family: FamilyUncompressed},
	native(ExplicitVRLittleEndian, "Explicit VR Little Endian"),
	{UID: ExplicitVRBigEndian, Name: "Explicit VR Big Endian", Family: FamilyUncompressed, ExplicitVR: true, BigEndian: true, Retired: true},
	encap("1.2.840.10008.1.2.1.98", "Encapsulated Uncompressed Explicit VR Little Endian", FamilyUncompressed),
	// Deflate.
	{UID: DeflatedExplicitVRLittleEndian, Name: "Deflated Explicit VR Little Endian", Family: FamilyDeflate, ExplicitVR: true, Deflated: true},
	encap("1.2.840.10008.1.2.8.1", "Deflated Image Frame Compression", FamilyDeflate),

	// JPEG (ISO 10918-1); processes other than 1, 2/4, 14 and 14 SV1 are retired.
	encap("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)", FamilyJPEG),
	encap("1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 and 4)", FamilyJPEG),
	encap("1.2.840.10008.1.2.4.52", "JPEG Extended (Process 3 and 5)", FamilyJPEG).retire(),
	encap("1.2.840.10008.1.2.4.53", "JPEG Spectral Selection, Non-Hierarchical (Process 6 and 8)", FamilyJPEG).retire(),
	encap("1.2.840.10008.1.2.4.54", "JPEG Spectral Selection, Non-Hierarchical (Process 7 and 9)", FamilyJPEG).retire(),
	encap("1.2.840.10008.1.2.4.55", "JPEG Full Progression, Non-Hierarchical (Process 10 and 12)", FamilyJPEG).retire(),
	encap("1.2.840.10008.1.2.4.56", "JPEG Full Progression, Non-Hierarchical (Process 11 and 13)", FamilyJPEG).retire(),
	encap("1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)", FamilyJPEG),
	encap("1.2.840.10008.1.2.4.58", "JPEG Lossless, Non-Hierarchical (Process 15)", FamilyJPEG).retire(),
	encap("1.2.840.10008.1.2.4.59", "JPEG Extended, Hierarchical (Process 16 and 18)", FamilyJPEG).retire(),
	encap("1.2.840.10008.1.2.4.60", "JPEG Extended, Hierarchical (Process 17 and 19)", FamilyJPEG).retire(),
	encap("1.2.840.10008.1.2.4.61", "JPEG Spectral Selection, Hierarchical (Process 20 and 22)", FamilyJPEG).retire(),
	encap("1.2.840.10008.1.2.4.62", "JPEG Spectral Selection, Hierarchical (Process 21 and 23)", FamilyJPEG).retire(),
	encap("1.2.840.10008.1.2.4.63", "JPEG Full Progression, Hierarchical (Process 24 and 26)", FamilyJPEG).retire(),
	encap("1.2.840.10008.1.2.4.64", "JPEG Full Progression, Hierarchical (Process 25 and 27)", FamilyJPEG).retire(),
	encap("1.2.840.10008.1.2.4.65", "JPEG Lossless, Hierarchical (Process 28)", FamilyJPEG).retire(),
	encap("1.2.840.10008.1.2.4.66", "JPEG Lossless, Hierarchical (Process 29)", FamilyJPEG).retire(),
	encap("1.2.840.10008.1.2.4.70", "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])", FamilyJPEG),
	// JPEG-LS.
	encap("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless Image Compression", FamilyJPEGLS),
	encap("1.2.840.10008.1.2.4.81", "JPEG-LS Lossy (Near-Lossless) Image Compression", FamilyJPEGLS),
	// JPEG 2000.
	encap("1.2.840.10008.1.2.4.90", "JPEG 2000 Image Compression (Lossless Only)", FamilyJPEG2000),
	encap("1.2.840.10008.1.2.4.91", "JPEG 2000 Image Compression", FamilyJPEG2000),
	encap("1.2.840.10008.1.2.4.92", "JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)", FamilyJPEG2000),
	encap("1.2.840.10008.1.2.4.93", "JPEG 2000 Part 2 Multi-component Image Compression", FamilyJPEG2000),
	// High-Throughput JPEG 2000.
	encap("1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 Image Compression (Lossless Only)", FamilyHTJ2K),
	encap("1.2.840.10008.1.2.4.202", "High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)", FamilyHTJ2K),
	encap("1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000 Image Compression", FamilyHTJ2K),
	// JPEG XL.
	encap("1.2.840.10008.1.2.4.110", "JPEG XL Lossless", FamilyJPEGXL),
	encap("1.2.840.10008.1.2.4.111", "JPEG XL JPEG Recompression", FamilyJPEGXL),
	encap("1.2.840.10008.1.2.4.112", "JPEG XL", FamilyJPEGXL),
	// RLE.
	encap("1.2.840.10008.1.2.5", "RLE Lossless", FamilyRLE),

	// Video: the whole stream is one item of encapsulated pixel data, or
	// several for the Fragmentable variants; stored as received like any
	// other encapsulated syntax.
	encap("1.2.840.10008.1.2.4.100", "MPEG2 Main Profile / Main Level", FamilyMPEG2),
	encap("1.2.840.10008.1.2.4.100.1", "Fragmentable MPEG2 Main Profile / Main Level", FamilyMPEG2),
	encap("1.2.840.10008.1.2.4.101", "MPEG2 Main Profile / High Level", FamilyMPEG2),
	encap("1.2.840.10008.1.2.4.101.1", "Fragmentable MPEG2 Main Profile / High Level", FamilyMPEG2),
	encap("1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile / Level 4.1", FamilyMPEG4),
	encap("1.2.840.10008.1.2.4.102.1", "Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.1", FamilyMPEG4),
	encap("1.2.840.10008.1.2.4.103", "MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1", FamilyMPEG4),
	encap("1.2.840.10008.1.2.4.103.1", "Fragmentable MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1", FamilyMPEG4),
	encap("1.2.840.10008.1.2.4.104", "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video", FamilyMPEG4),
	encap("1.2.840.10008.1.2.4.104.1", "Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video", FamilyMPEG4),
	encap("1.2.840.10008.1.2.4.105", "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video", FamilyMPEG4),
	encap("1.2.840.10008.1.2.4.105.1", "Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video", FamilyMPEG4),
	encap("1.2.840.10008.1.2.4.106", "MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2", FamilyMPEG4),
	encap("1.2.840.10008.1.2.4.106.1", "Fragmentable MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2", FamilyMPEG4),
	encap("1.2.840.10008.1.2.4.107", "HEVC/H.265 Main Profile / Level 5.1", FamilyHEVC),
	encap("1.2.840.10008.1.2.4.108", "HEVC/H.265 Main 10 Profile / Level 5.1", FamilyHEVC),

	// Not storable. JPIP Referenced: the data set holds no pixel data, only a
	// Pixel Data Provider URL (0028,7FE0) on the sender's JPIP server; a copy
	// is not self-contained and breaks when that server goes away.
	{UID: "1.2.840.10008.1.2.4.94", Name: "JPIP Referenced", Family: FamilyJPIP, ExplicitVR: true, notStorable: true},
	{UID: "1.2.840.10008.1.2.4.95", Name: "JPIP Referenced Deflate", Family: FamilyJPIP, ExplicitVR: true, Deflated: true, notStorable: true},
	{UID: "1.2.840.10008.1.2.4.204", Name: "JPIP HTJ2K Referenced", Family: FamilyJPIP, ExplicitVR: true, notStorable: true},
	{UID: "1.2.840.10008.1.2.4.205", Name: "JPIP HTJ2K Referenced Deflate", Family: FamilyJPIP, ExplicitVR: true, Deflated: true, notStorable: true},
	// RFC 2557 MIME and XML: retired encodings meant for MIME and XML
	// exchange; what they carry is not a binary data set.
	{UID: "1.2.840.10008.1.2.6.1", Name: "RFC 2557 MIME encapsulation", Family: FamilyOther, Retired: true, notStorable: true},
	{UID: "1.2.840.10008.1.2.6.2", Name: "XML Encoding", Family: FamilyOther, Retired: true, notStorable: true},
	// SMPTE ST 2110: real-time communication only (PS3.22); the essence
	// travels as RTP streams beside the metadata, never as a stored data set.
	{UID: "1.2.840.10008.1.2.7.1", Name: "SMPTE ST 2110-20 Uncompressed Progressive Active Video", Family: FamilySMPTE2110, ExplicitVR: true, notStorable: true},
	{UID: "1.2.840.10008.1.2.7.2", Name: "SMPTE ST 2110-20 Uncompressed Interlaced Active Video", Family: FamilySMPTE2110, ExplicitVR: true, notStorable: true},
	{UID: "1.2.840.10008.1.2.7.3", Name: "SMPTE ST 2110-30 PCM Digital Audio", Family: FamilySMPTE2110, ExplicitVR: true, notStorable: true},
	// Papyrus 3: retired, and its encoding rules are gone from PS3.5.
	{UID: "1.2.840.10008.1.20", Name: "Papyrus 3 Implicit VR Little Endian", Family: FamilyUncompressed, Retired: true, notStorable: true},
	// GE private: implicit VR little endian with big endian pixel data. A
	// sender that offers it also offers Implicit VR Little Endian (the
	// default every SCU must propose), which a receiver accepts instead.
	{UID: "1.2.840.113619.5.2", Name: "Implicit VR Little Endian, Big Endian Pixel Data (GE private)", Family: FamilyPrivate, notStorable: true},
}
