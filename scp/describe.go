package scp

import (
	"fmt"

	"github.com/dicominbox/dicominbox/scp/pdu"
)

// DescribeRejection puts an A-ASSOCIATE-RJ into words (PS3.8 table 9-21).
func DescribeRejection(rj pdu.AssociateRJ) string {
	result := map[byte]string{pdu.RejectPermanent: "permanent", pdu.RejectTransient: "transient"}[rj.Result]
	if result == "" {
		result = fmt.Sprintf("result %d", rj.Result)
	}
	var source, reason string
	switch rj.Source {
	case pdu.RejectSourceUser:
		source = "by the called application"
		reason = map[byte]string{
			pdu.RejectReasonNoReason:               "no reason given",
			pdu.RejectReasonAppContextNotSupported: "application context not supported",
			pdu.RejectReasonCallingAENotRecognized: "calling AE title not recognized",
			pdu.RejectReasonCalledAENotRecognized:  "called AE title not recognized",
		}[rj.Reason]
	case pdu.RejectSourceProviderACSE:
		source = "by the ACSE provider"
		reason = map[byte]string{
			1: "no reason given",
			pdu.RejectReasonProtocolVersionNotSupported: "protocol version not supported",
		}[rj.Reason]
	case pdu.RejectSourceProviderPresentation:
		source = "by the presentation provider"
		reason = map[byte]string{
			pdu.RejectReasonTemporaryCongestion: "temporary congestion",
			pdu.RejectReasonLocalLimitExceeded:  "local limit exceeded (too many associations)",
		}[rj.Reason]
	default:
		source = fmt.Sprintf("by source %d", rj.Source)
	}
	if reason == "" {
		reason = fmt.Sprintf("reason %d", rj.Reason)
	}
	return fmt.Sprintf("%s rejection %s: %s", result, source, reason)
}
