package pdu

import "encoding/binary"

// Type returns TypeAssociateRQ.
func (AssociateRQ) Type() Type { return TypeAssociateRQ }

// Type returns TypeAssociateAC.
func (AssociateAC) Type() Type { return TypeAssociateAC }

// Append encodes the A-ASSOCIATE-RQ onto b. Items are written in the order
// of PS3.8 9.3.2: application context, presentation contexts (each with its
// abstract syntax then its transfer syntaxes), user information. Strings are
// written as given: set ApplicationContext to ApplicationContextName. An
// empty AbstractSyntax is left out, as the decoder reports a missing one.
//
// Append panics if an item would exceed 65535 bytes, which no valid request does.
func (p AssociateRQ) Append(b []byte) []byte {
	b, at := beginPDU(b, TypeAssociateRQ)
	b = appendAssociateFixed(b, p.ProtocolVersion, p.CalledAE, p.CallingAE)
	b = appendStringItem(b, itemApplicationContext, p.ApplicationContext)
	for _, pc := range p.PresentationContexts {
		var it int
		b, it = beginItem(b, itemPresentationRQ)
		b = append(b, pc.ID, 0, 0, 0)
		if pc.AbstractSyntax != "" {
			b = appendStringItem(b, itemAbstractSyntax, pc.AbstractSyntax)
		}
		for _, ts := range pc.TransferSyntaxes {
			b = appendStringItem(b, itemTransferSyntax, ts)
		}
		b = endItem(b, it)
	}
	b = p.UserInfo.appendItem(b)
	return endPDU(b, at)
}

// Append encodes the A-ASSOCIATE-AC onto b, in the item order of PS3.8
// 9.3.3. Every presentation context carries one transfer syntax sub-item,
// even when it is not accepted (PS3.8 9.3.3.2: the value is then not
// significant; it is written as given, usually empty), as DCMTK does.
//
// Append panics if an item would exceed 65535 bytes, which no valid response does.
func (p AssociateAC) Append(b []byte) []byte {
	b, at := beginPDU(b, TypeAssociateAC)
	b = appendAssociateFixed(b, p.ProtocolVersion, p.CalledAE, p.CallingAE)
	b = appendStringItem(b, itemApplicationContext, p.ApplicationContext)
	for _, pc := range p.PresentationContexts {
		var it int
		b, it = beginItem(b, itemPresentationAC)
		b = append(b, pc.ID, 0, byte(pc.Result), 0)
		b = appendStringItem(b, itemTransferSyntax, pc.TransferSyntax)
		b = endItem(b, it)
	}
	b = p.UserInfo.appendItem(b)
	return endPDU(b, at)
}

// appendAssociateFixed appends the 68-byte fixed part shared by the RQ and AC.
func appendAssociateFixed(b []byte, version uint16, called, calling string) []byte {
	b = binary.BigEndian.AppendUint16(b, version)
	b = append(b, 0, 0)
	b = appendAE(b, called)
	b = appendAE(b, calling)
	var reserved [32]byte
	return append(b, reserved[:]...)
}

// associateCommon holds what the RQ and AC share.
type associateCommon struct {
	version         uint16
	called, calling string
	appContext      string
	userInfo        UserInfo
}

// decodeAssociate decodes the fixed part and the variable items of an
// A-ASSOCIATE-RQ or -AC. Presentation context items of type pcType are
// passed to onPC; items of unknown type are skipped (PS3.8 9.3.1).
func decodeAssociate(t Type, body []byte, pcType byte, onPC func(data []byte) error) (associateCommon, error) {
	var c associateCommon
	if len(body) < associateFixedLen {
		return c, invalidf("%v: body of %d bytes is shorter than its %d-byte fixed part", t, len(body), associateFixedLen)
	}
	c.version = binary.BigEndian.Uint16(body)
	c.called = decodeAE(body[4:20])
	c.calling = decodeAE(body[20:36])
	var haveAppContext, haveUserInfo bool
	it := items{b: body[associateFixedLen:], where: t.String()}
	for {
		typ, data, ok, err := it.next()
		if err != nil {
			return c, err
		}
		if !ok {
			break
		}
		switch typ {
		case itemApplicationContext:
			if haveAppContext {
				return c, invalidf("%v: more than one application context item", t)
			}
			haveAppContext = true
			c.appContext = decodeUID(data)
		case pcType:
			if err := onPC(data); err != nil {
				return c, err
			}
		case itemUserInfo:
			if haveUserInfo {
				return c, invalidf("%v: more than one user information item", t)
			}
			haveUserInfo = true
			if c.userInfo, err = decodeUserInfo(data); err != nil {
				return c, err
			}
		}
	}
	if !haveAppContext {
		return c, invalidf("%v: no application context item", t)
	}
	// A missing user information item is tolerated: it decodes as a zero
	// UserInfo (maximum length 0, unlimited).
	return c, nil
}

// decodeAssociateRQ decodes the body of an A-ASSOCIATE-RQ. At least one
// presentation context is required. A context with no transfer syntax or no
// abstract syntax is kept (the acceptor rejects that context alone).
func decodeAssociateRQ(body []byte) (*AssociateRQ, error) {
	p := &AssociateRQ{}
	c, err := decodeAssociate(TypeAssociateRQ, body, itemPresentationRQ, func(data []byte) error {
		if len(p.PresentationContexts) == MaxPresentationContexts {
			return invalidf("A-ASSOCIATE-RQ: more than %d presentation contexts", MaxPresentationContexts)
		}
		pc, err := decodePresentationRQ(data)
		if err != nil {
			return err
		}
		p.PresentationContexts = append(p.PresentationContexts, pc)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(p.PresentationContexts) == 0 {
		return nil, invalidf("A-ASSOCIATE-RQ: no presentation context item")
	}
	p.ProtocolVersion, p.CalledAE, p.CallingAE = c.version, c.called, c.calling
	p.ApplicationContext, p.UserInfo = c.appContext, c.userInfo
	return p, nil
}

// decodeAssociateAC decodes the body of an A-ASSOCIATE-AC. An AC without
// presentation contexts is accepted (it simply accepts none).
func decodeAssociateAC(body []byte) (*AssociateAC, error) {
	p := &AssociateAC{}
	c, err := decodeAssociate(TypeAssociateAC, body, itemPresentationAC, func(data []byte) error {
		if len(p.PresentationContexts) == MaxPresentationContexts {
			return invalidf("A-ASSOCIATE-AC: more than %d presentation contexts", MaxPresentationContexts)
		}
		pc, err := decodePresentationAC(data)
		if err != nil {
			return err
		}
		p.PresentationContexts = append(p.PresentationContexts, pc)
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.ProtocolVersion, p.CalledAE, p.CallingAE = c.version, c.called, c.calling
	p.ApplicationContext, p.UserInfo = c.appContext, c.userInfo
	return p, nil
}

// decodePresentationRQ decodes the value of a 0x20 item. The ID is kept as
// sent, even when it is even or 0: the acceptor decides what to do with it.
func decodePresentationRQ(data []byte) (PresentationContextRQ, error) {
	var pc PresentationContextRQ
	if len(data) < 4 {
		return pc, invalidf("presentation context item of %d bytes is shorter than its 4-byte fixed part", len(data))
	}
	pc.ID = data[0]
	var haveAbstract bool
	it := items{b: data[4:], where: "presentation context item"}
	for {
		typ, v, ok, err := it.next()
		if err != nil {
			return pc, err
		}
		if !ok {
			return pc, nil
		}
		switch typ {
		case itemAbstractSyntax:
			if haveAbstract {
				return pc, invalidf("presentation context %d: more than one abstract syntax", pc.ID)
			}
			haveAbstract = true
			pc.AbstractSyntax = decodeUID(v)
		case itemTransferSyntax:
			if len(pc.TransferSyntaxes) == MaxTransferSyntaxes {
				return pc, invalidf("presentation context %d: more than %d transfer syntaxes", pc.ID, MaxTransferSyntaxes)
			}
			pc.TransferSyntaxes = append(pc.TransferSyntaxes, decodeUID(v))
		}
	}
}

// decodePresentationAC decodes the value of a 0x21 item. The transfer
// syntax sub-item is required when the context is accepted, and may be
// missing otherwise (PS3.8 9.3.3.2 makes it not significant then).
func decodePresentationAC(data []byte) (PresentationContextAC, error) {
	var pc PresentationContextAC
	if len(data) < 4 {
		return pc, invalidf("presentation context item of %d bytes is shorter than its 4-byte fixed part", len(data))
	}
	pc.ID = data[0]
	pc.Result = PresentationContextResult(data[2])
	var haveTS bool
	it := items{b: data[4:], where: "presentation context item"}
	for {
		typ, v, ok, err := it.next()
		if err != nil {
			return pc, err
		}
		if !ok {
			break
		}
		if typ == itemTransferSyntax {
			if haveTS {
				return pc, invalidf("presentation context %d: more than one transfer syntax in an A-ASSOCIATE-AC", pc.ID)
			}
			haveTS = true
			pc.TransferSyntax = decodeUID(v)
		}
	}
	if !haveTS && pc.Result == PCAcceptance {
		return pc, invalidf("presentation context %d: accepted without a transfer syntax", pc.ID)
	}
	return pc, nil
}
