package scp

import (
	"fmt"

	"github.com/dicominbox/dicominbox/scp/pdu"
	"github.com/dicominbox/dicominbox/scp/uid"
)

// The presentation-context policy, in one place:
//
//	abstract syntax                         | accepted when
//	----------------------------------------+---------------------------------------------
//	Verification 1.2.840.10008.1.1          | always (any standard uncompressed syntax)
//	a Storage SOP Class of PS3.4 Annex B    | always
//	any other syntactically valid UID       | only with Config.AcceptUnknownSOPClasses
//	anything else                           | rejected: abstract syntax not supported (3)
//
//	transfer syntax                         | accepted when
//	----------------------------------------+---------------------------------------------
//	standard and storable as received       | yes: uncompressed LE/BE, deflate, JPEG,
//	(uid.TransferSyntax.Storable)           | JPEG-LS, JPEG 2000, HTJ2K, RLE, MPEG, HEVC…
//	standard but not a storable data set    | no (JPIP referenced, RFC 2557, XML, SMPTE 2110)
//	private or unknown                      | no: we cannot know how to read its header
//
// Among the acceptable transfer syntaxes of one context, the first the peer
// proposed wins (the sender knows best which one needs no conversion), except
// that retired Explicit VR Big Endian is taken only when nothing else is left.
// Verification accepts only uncompressed syntaxes: a C-ECHO has no data set
// but the syntax must still be one every implementation supports.

// negotiatedContext is a presentation context accepted for this association.
type negotiatedContext struct {
	ID             byte
	AbstractSyntax string
	TransferSyntax string
}

// negotiate answers every proposed presentation context and returns the
// accepted ones by context ID.
func negotiate(cfg *Config, rq *pdu.AssociateRQ) ([]pdu.PresentationContextAC, map[byte]negotiatedContext) {
	answers := make([]pdu.PresentationContextAC, 0, len(rq.PresentationContexts))
	accepted := make(map[byte]negotiatedContext, len(rq.PresentationContexts))
	for _, pc := range rq.PresentationContexts {
		ac := pdu.PresentationContextAC{ID: pc.ID}
		switch {
		case !abstractSyntaxAcceptable(cfg, pc.AbstractSyntax):
			ac.Result = pdu.PCAbstractSyntaxNotSupported
		default:
			ts, ok := chooseTransferSyntax(pc.AbstractSyntax, pc.TransferSyntaxes)
			if !ok {
				ac.Result = pdu.PCTransferSyntaxesNotSupported
				break
			}
			ac.Result = pdu.PCAcceptance
			ac.TransferSyntax = ts
			accepted[pc.ID] = negotiatedContext{ID: pc.ID, AbstractSyntax: pc.AbstractSyntax, TransferSyntax: ts}
		}
		answers = append(answers, ac)
	}
	return answers, accepted
}

func abstractSyntaxAcceptable(cfg *Config, as string) bool {
	if as == uid.Verification || uid.IsStorage(as) {
		return true
	}
	return cfg.AcceptUnknownSOPClasses && uid.Valid(as) && !isKnownNonStorage(as)
}

// isKnownNonStorage reports whether as is a well-known SOP class of another
// service (query/retrieve, worklist, commitment …): accepting it as "unknown
// storage" would promise a service we do not offer.
func isKnownNonStorage(as string) bool {
	if _, ok := uid.LookupTransferSyntax(as); ok {
		return true
	}
	return uid.Name(as) != ""
}

func chooseTransferSyntax(abstract string, proposed []string) (string, bool) {
	bigEndian := ""
	for _, t := range proposed {
		ts, ok := uid.LookupTransferSyntax(t)
		if !ok || !ts.Storable() {
			continue
		}
		if abstract == uid.Verification && (ts.Encapsulated || ts.Deflated) {
			continue
		}
		if ts.BigEndian {
			if bigEndian == "" {
				bigEndian = t
			}
			continue
		}
		return t, true
	}
	return bigEndian, bigEndian != ""
}

// rejection is an A-ASSOCIATE-RJ with the words that explain it in logs and events.
type rejection struct {
	rj     pdu.AssociateRJ
	reason string
}

// checkAssociation applies the association-level policy: protocol version,
// application context, called AE, calling AE allow-list. It returns nil when
// the association may proceed to presentation-context negotiation.
func checkAssociation(cfg *Config, rq *pdu.AssociateRQ) *rejection {
	switch {
	case rq.ProtocolVersion&1 == 0:
		return &rejection{pdu.AssociateRJ{Result: pdu.RejectPermanent, Source: pdu.RejectSourceProviderACSE, Reason: pdu.RejectReasonProtocolVersionNotSupported},
			fmt.Sprintf("protocol version %#04x not supported", rq.ProtocolVersion)}
	case rq.ApplicationContext != pdu.ApplicationContextName:
		return &rejection{pdu.AssociateRJ{Result: pdu.RejectPermanent, Source: pdu.RejectSourceUser, Reason: pdu.RejectReasonAppContextNotSupported},
			fmt.Sprintf("application context %q not supported", rq.ApplicationContext)}
	case !cfg.AcceptAnyCalledAE && rq.CalledAE != cfg.AETitle:
		return &rejection{pdu.AssociateRJ{Result: pdu.RejectPermanent, Source: pdu.RejectSourceUser, Reason: pdu.RejectReasonCalledAENotRecognized},
			fmt.Sprintf("called AE %q is not this receiver's AE title %q", rq.CalledAE, cfg.AETitle)}
	case len(cfg.AllowedCallingAEs) > 0 && !contains(cfg.AllowedCallingAEs, rq.CallingAE):
		return &rejection{pdu.AssociateRJ{Result: pdu.RejectPermanent, Source: pdu.RejectSourceUser, Reason: pdu.RejectReasonCallingAENotRecognized},
			fmt.Sprintf("calling AE %q is not on the allowed list", rq.CallingAE)}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// roleSelections answers the peer's SCP/SCU role selection items: it may be
// SCU (it sends to us); we never take the SCU role ourselves, so SCP is denied.
func roleSelections(rq []pdu.RoleSelection, accepted map[byte]negotiatedContext) []pdu.RoleSelection {
	if len(rq) == 0 {
		return nil
	}
	var out []pdu.RoleSelection
	for _, r := range rq {
		for _, pc := range accepted {
			if pc.AbstractSyntax == r.SOPClassUID {
				out = append(out, pdu.RoleSelection{SOPClassUID: r.SOPClassUID, SCU: r.SCU, SCP: false})
				break
			}
		}
	}
	return out
}
