package pdu

// fixedBodyLen is the body length of A-ASSOCIATE-RJ, A-RELEASE-RQ/RP and
// A-ABORT, which are all four bytes.
const fixedBodyLen = 4

// Type returns TypeAssociateRJ.
func (AssociateRJ) Type() Type { return TypeAssociateRJ }

// Append encodes the A-ASSOCIATE-RJ onto b (PS3.8 9.3.4).
func (p AssociateRJ) Append(b []byte) []byte {
	b = appendHeader(b, TypeAssociateRJ, fixedBodyLen)
	return append(b, 0, p.Result, p.Source, p.Reason)
}

// Type returns TypeReleaseRQ.
func (ReleaseRQ) Type() Type { return TypeReleaseRQ }

// Append encodes the A-RELEASE-RQ onto b (PS3.8 9.3.6).
func (ReleaseRQ) Append(b []byte) []byte {
	b = appendHeader(b, TypeReleaseRQ, fixedBodyLen)
	return append(b, 0, 0, 0, 0)
}

// Type returns TypeReleaseRP.
func (ReleaseRP) Type() Type { return TypeReleaseRP }

// Append encodes the A-RELEASE-RP onto b (PS3.8 9.3.7).
func (ReleaseRP) Append(b []byte) []byte {
	b = appendHeader(b, TypeReleaseRP, fixedBodyLen)
	return append(b, 0, 0, 0, 0)
}

// Type returns TypeAbort.
func (Abort) Type() Type { return TypeAbort }

// Append encodes the A-ABORT onto b (PS3.8 9.3.8).
func (p Abort) Append(b []byte) []byte {
	b = appendHeader(b, TypeAbort, fixedBodyLen)
	return append(b, 0, 0, p.Source, p.Reason)
}

// checkFixedBody reports an error unless body is exactly four bytes long.
// The reserved bytes are not tested (PS3.8 9.3.4, 9.3.6 to 9.3.8).
func checkFixedBody(t Type, n int) error {
	if n != fixedBodyLen {
		return invalidf("%v: body of %d bytes, want %d", t, n, fixedBodyLen)
	}
	return nil
}

// decodeAssociateRJ decodes the body of an A-ASSOCIATE-RJ. The values of
// result, source and reason are not checked: the caller only reports them.
func decodeAssociateRJ(body []byte) (*AssociateRJ, error) {
	if err := checkFixedBody(TypeAssociateRJ, len(body)); err != nil {
		return nil, err
	}
	return &AssociateRJ{Result: body[1], Source: body[2], Reason: body[3]}, nil
}

// decodeAbort decodes the body of an A-ABORT. Source and reason are not
// checked: the association ends either way.
func decodeAbort(body []byte) (*Abort, error) {
	if err := checkFixedBody(TypeAbort, len(body)); err != nil {
		return nil, err
	}
	return &Abort{Source: body[2], Reason: body[3]}, nil
}
