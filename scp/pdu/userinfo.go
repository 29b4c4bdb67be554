package pdu

import "encoding/binary"

// appendItem appends the user information item (0x50) with its sub-items in
// the order 0x51, 0x52, 0x53, 0x54..., 0x55, 0x56..., 0x57..., 0x58, 0x59,
// then the unknown sub-items verbatim. The maximum length sub-item is always
// written (0 meaning unlimited); the others only when set. The user identity
// response (0x59) is written whenever UserIdentityResponse is non-nil, even
// when empty. Unknown items must not use the type of a known sub-item.
func (u *UserInfo) appendItem(b []byte) []byte {
	b, at := beginItem(b, itemUserInfo)

	b = append(b, itemMaxLength, 0, 0, 4)
	b = binary.BigEndian.AppendUint32(b, u.MaxPDULength)
	if u.ImplementationClassUID != "" {
		b = appendStringItem(b, itemImplClassUID, u.ImplementationClassUID)
	}
	if a := u.AsyncOps; a != nil {
		b = append(b, itemAsyncOps, 0, 0, 4)
		b = binary.BigEndian.AppendUint16(b, a.MaxInvoked)
		b = binary.BigEndian.AppendUint16(b, a.MaxPerformed)
	}
	for _, r := range u.RoleSelections {
		var it int
		b, it = beginItem(b, itemRoleSelection)
		b = appendLenPrefixed(b, r.SOPClassUID)
		b = append(b, boolByte(r.SCU), boolByte(r.SCP))
		b = endItem(b, it)
	}
	if u.ImplementationVersionName != "" {
		b = appendStringItem(b, itemImplVersionName, u.ImplementationVersionName)
	}
	for _, e := range u.ExtendedNegotiations {
		var it int
		b, it = beginItem(b, itemExtendedNegotiation)
		b = appendLenPrefixed(b, e.SOPClassUID)
		b = append(b, e.Info...)
		b = endItem(b, it)
	}
	for _, c := range u.CommonExtended {
		var it int
		b, it = beginItem(b, itemCommonExtended) // the reserved byte is the sub-item version, 0
		b = appendLenPrefixed(b, c.SOPClassUID)
		b = appendLenPrefixed(b, c.ServiceClassUID)
		lenAt := len(b)
		b = append(b, 0, 0)
		for _, uid := range c.RelatedGeneralSOPUIDs {
			b = appendLenPrefixed(b, uid)
		}
		n := len(b) - lenAt - 2
		if n > maxItemLen {
			panic("pdu: related general SOP class identification longer than 65535 bytes")
		}
		binary.BigEndian.PutUint16(b[lenAt:], uint16(n))
		b = endItem(b, it)
	}
	if id := u.UserIdentity; id != nil {
		var it int
		b, it = beginItem(b, itemUserIdentityRQ)
		b = append(b, id.Type, boolByte(id.PositiveResponseRequested))
		b = appendLenPrefixed(b, id.Primary)
		b = appendLenPrefixed(b, id.Secondary)
		b = endItem(b, it)
	}
	if u.UserIdentityResponse != nil {
		var it int
		b, it = beginItem(b, itemUserIdentityAC)
		b = appendLenPrefixed(b, u.UserIdentityResponse)
		b = endItem(b, it)
	}
	for _, raw := range u.Unknown {
		var it int
		b, it = beginItem(b, raw.Type)
		b = append(b, raw.Data...)
		b = endItem(b, it)
	}
	return endItem(b, at)
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// decodeUserInfo decodes the value of the user information item.
//
// A sub-item that may appear once (0x51, 0x52, 0x53, 0x55, 0x58, 0x59) and
// appears twice is an error: the two values could be read differently by
// different implementations. Sub-items of unknown type are kept in Unknown.
// Byte fields (Info, Primary, Secondary, Data) are copies, never aliases of data.
func decodeUserInfo(data []byte) (UserInfo, error) {
	var u UserInfo
	var seen [itemUserIdentityAC - itemMaxLength + 1]bool
	grow := 0 // bytes that re-encoding adds
	it := items{b: data, where: "user information item"}
	for {
		typ, v, ok, err := it.next()
		if err != nil {
			return u, err
		}
		if !ok {
			break
		}
		switch typ {
		case itemMaxLength, itemImplClassUID, itemAsyncOps, itemImplVersionName, itemUserIdentityRQ, itemUserIdentityAC:
			if seen[typ-itemMaxLength] {
				return u, invalidf("user information: more than one sub-item 0x%02X", typ)
			}
			seen[typ-itemMaxLength] = true
		}
		switch typ {
		case itemMaxLength:
			if len(v) != 4 {
				return u, invalidf("maximum length sub-item has length %d, want 4", len(v))
			}
			u.MaxPDULength = binary.BigEndian.Uint32(v)
		case itemImplClassUID:
			u.ImplementationClassUID = decodeUID(v)
		case itemAsyncOps:
			if len(v) != 4 {
				return u, invalidf("asynchronous operations window sub-item has length %d, want 4", len(v))
			}
			u.AsyncOps = &AsyncOpsWindow{
				MaxInvoked:   binary.BigEndian.Uint16(v),
				MaxPerformed: binary.BigEndian.Uint16(v[2:]),
			}
		case itemRoleSelection:
			if len(u.RoleSelections) == MaxRoleSelections {
				return u, invalidf("user information: more than %d role selection sub-items", MaxRoleSelections)
			}
			r, err := decodeRoleSelection(v)
			if err != nil {
				return u, err
			}
			u.RoleSelections = append(u.RoleSelections, r)
		case itemImplVersionName:
			u.ImplementationVersionName = decodeUID(v)
		case itemExtendedNegotiation:
			if len(u.ExtendedNegotiations) == MaxExtendedNegotiations {
				return u, invalidf("user information: more than %d extended negotiation sub-items", MaxExtendedNegotiations)
			}
			f := fields{b: v}
			uid := f.lenPrefixed()
			if f.short {
				return u, invalidf("extended negotiation sub-item: SOP class UID overruns the sub-item")
			}
			u.ExtendedNegotiations = append(u.ExtendedNegotiations,
				ExtendedNegotiation{SOPClassUID: decodeUID(uid), Info: cloneBytes(f.b)})
		case itemCommonExtended:
			if len(u.CommonExtended) == MaxCommonExtended {
				return u, invalidf("user information: more than %d common extended negotiation sub-items", MaxCommonExtended)
			}
			c, err := decodeCommonExtended(v)
			if err != nil {
				return u, err
			}
			u.CommonExtended = append(u.CommonExtended, c)
		case itemUserIdentityRQ:
			var short bool
			if u.UserIdentity, short, err = decodeUserIdentity(v); err != nil {
				return u, err
			}
			if short {
				grow += 2
			}
		case itemUserIdentityAC:
			f := fields{b: v}
			resp := f.lenPrefixed()
			if f.short || len(f.b) != 0 {
				return u, invalidf("user identity response sub-item: server response length does not match the sub-item length %d", len(v))
			}
			u.UserIdentityResponse = append([]byte{}, resp...) // non-nil: present, maybe empty
		default:
			if len(u.Unknown) == MaxUnknownSubItems {
				return u, invalidf("user information: more than %d unknown sub-items", MaxUnknownSubItems)
			}
			u.Unknown = append(u.Unknown, RawItem{Type: typ, Data: cloneBytes(v)})
		}
	}
	// Keep every decoded value encodable: Append always writes the maximum
	// length sub-item and the secondary field length of a user identity.
	if !seen[0] {
		grow += 8
	}
	if len(data)+grow > maxItemLen {
		return u, invalidf("user information item of %d bytes, too long to re-encode", len(data))
	}
	return u, nil
}

// decodeRoleSelection decodes the value of a 0x54 sub-item. Any non-zero
// role byte means support.
func decodeRoleSelection(v []byte) (RoleSelection, error) {
	f := fields{b: v}
	uid := f.lenPrefixed()
	scu, scp := f.u8(), f.u8()
	if f.short || len(f.b) != 0 {
		return RoleSelection{}, invalidf("role selection sub-item: UID length does not match the sub-item length %d", len(v))
	}
	return RoleSelection{SOPClassUID: decodeUID(uid), SCU: scu != 0, SCP: scp != 0}, nil
}

// decodeCommonExtended decodes the value of a 0x57 sub-item. Bytes after the
// related general SOP class identification field are ignored.
func decodeCommonExtended(v []byte) (CommonExtended, error) {
	var c CommonExtended
	f := fields{b: v}
	sop := f.lenPrefixed()
	svc := f.lenPrefixed()
	related := f.lenPrefixed()
	if f.short {
		return c, invalidf("common extended negotiation sub-item: a length overruns the sub-item of %d bytes", len(v))
	}
	c.SOPClassUID, c.ServiceClassUID = decodeUID(sop), decodeUID(svc)
	r := fields{b: related}
	for len(r.b) > 0 {
		if len(c.RelatedGeneralSOPUIDs) == MaxRelatedGeneralSOPClasses {
			return c, invalidf("common extended negotiation sub-item: more than %d related general SOP classes", MaxRelatedGeneralSOPClasses)
		}
		uid := r.lenPrefixed()
		if r.short {
			return c, invalidf("common extended negotiation sub-item: a related general SOP class UID overruns its field")
		}
		c.RelatedGeneralSOPUIDs = append(c.RelatedGeneralSOPUIDs, decodeUID(uid))
	}
	return c, nil
}

// decodeUserIdentity decodes the value of a 0x58 sub-item. A sub-item that
// ends right after the primary field (no secondary length) is tolerated, and
// reported by noSecondary.
func decodeUserIdentity(v []byte) (id *UserIdentity, noSecondary bool, err error) {
	f := fields{b: v}
	id = &UserIdentity{Type: f.u8(), PositiveResponseRequested: f.u8() != 0}
	primary := f.lenPrefixed()
	var secondary []byte
	noSecondary = !f.short && len(f.b) == 0
	if !noSecondary {
		secondary = f.lenPrefixed()
	}
	if f.short || len(f.b) != 0 {
		return nil, false, invalidf("user identity sub-item: field lengths do not match the sub-item length %d", len(v))
	}
	id.Primary, id.Secondary = cloneBytes(primary), cloneBytes(secondary)
	return id, noSecondary, nil
}
