package valimo

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The MSSP's status codes (ETSI TS 102 204, section 8): those a login
// meets.
const (
	CodeRequestOK          = 100
	CodeWrongParam         = 101
	CodeMissingParam       = 102
	CodeUnauthorizedAccess = 104
	CodeUnknownClient      = 105
	CodeExpiredTransaction = 208
	CodeOTAError           = 209
	CodeUserCancel         = 401
	CodePINBlocked         = 402
	CodeCardBlocked        = 403
	CodeNoKeyFound         = 404
	CodePBSignatureProcess = 406
	CodeNoCertFound        = 422
	CodeSignature          = 500
	CodeRevokedCertificate = 501
	CodeValidSignature     = 502
	CodeInvalidSignature   = 503
	CodeOutstanding        = 504
	CodeInternalError      = 900
)

// The namespaces of the messages.
const (
	nsSOAP = "http://schemas.xmlsoap.org/soap/envelope/"
	nsMSS  = "http://uri.etsi.org/TS102204/v1.1.2#"
	// FormatPKCS7 is the signature format asked for (MSS_Format).
	FormatPKCS7 = "http://uri.etsi.org/TS102204/v1.1.2#PKCS7"
)

// Client speaks the MSSP's SOAP interface (ETSI TS 102 204 as Valimo
// Kiuru serves it): MSS_Signature in asynchronous client-server mode, then
// MSS_StatusQuery.
type Client struct {
	URL, APID, APPassword string
	// SignatureProfile is the profile URI asked for.
	SignatureProfile string
	// HTTP carries the requests (with the AP's TLS client certificate).
	HTTP *http.Client
}

// Fault is the MSSP's answer refusing or ending a transaction: a SOAP
// fault with an MSS status code (mss:_401 …), or a final status code.
type Fault struct {
	Code           int
	Reason, Detail string
}

func (f *Fault) Error() string {
	s := fmt.Sprintf("MSSP: %d %s", f.Code, f.Reason)
	if f.Detail != "" {
		s += ": " + f.Detail
	}
	return s
}

// ServiceError is a failure of the service itself (no answer, an HTTP
// error without an MSS fault, an internal error): worth trying again.
type ServiceError struct{ Msg string }

func (e *ServiceError) Error() string { return "MSSP unavailable: " + e.Msg }

// Status is the answer of a status query.
type Status struct {
	Code    int
	Message string
	// Certificate is the signer's certificate (VALID_SIGNATURE).
	Certificate *x509.Certificate
}

// instant is an xs:dateTime with its zone, as AP_Info's Instant wants.
func instant(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func xmlText(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (c *Client) apInfo(apTransID string, now time.Time) string {
	return fmt.Sprintf(`<mss:AP_Info AP_ID="%s" AP_PWD="%s" AP_TransID="%s" Instant="%s"/><mss:MSSP_Info><mss:MSSP_ID/></mss:MSSP_Info>`,
		xmlText(c.APID), xmlText(c.APPassword), xmlText(apTransID), instant(now))
}

func envelope(op, body string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` +
		`<soapenv:Envelope xmlns:soapenv="` + nsSOAP + `"><soapenv:Body><` + op + `>` + body +
		`</` + op + `></soapenv:Body></soapenv:Envelope>`)
}

// Sign sends an MSS_SignatureReq (asynchronous) of text to msisdn, which
// the user has timeout to sign; it answers the MSSP's transaction id.
// Errors: *Fault (refused), *ServiceError (try again).
func (c *Client) Sign(ctx context.Context, apTransID, msisdn, text string, timeout time.Duration) (string, error) {
	body := fmt.Sprintf(`<mss:MSS_SignatureReq xmlns:mss="%s" MajorVersion="1" MinorVersion="1" MessagingMode="asynchClientServer" TimeOut="%d">`,
		nsMSS, int(timeout.Seconds())) +
		c.apInfo(apTransID, time.Now()) +
		`<mss:MobileUser><mss:MSISDN>` + xmlText(msisdn) + `</mss:MSISDN></mss:MobileUser>` +
		`<mss:DataToBeSigned Encoding="UTF-8" MimeType="text/plain">` + xmlText(text) + `</mss:DataToBeSigned>` +
		`<mss:SignatureProfile><mss:mssURI>` + xmlText(c.SignatureProfile) + `</mss:mssURI></mss:SignatureProfile>` +
		`<mss:MSS_Format><mss:mssURI>` + FormatPKCS7 + `</mss:mssURI></mss:MSS_Format>` +
		`</mss:MSS_SignatureReq>`
	root, err := c.call(ctx, "MSS_Signature", body)
	if err != nil {
		return "", err
	}
	resp := root.find("MSS_SignatureResp")
	if resp == nil {
		return "", &ServiceError{Msg: "no MSS_SignatureResp in the answer"}
	}
	if code, msg := statusOf(resp); code != CodeRequestOK && code != 0 {
		return "", &Fault{Code: code, Reason: msg}
	}
	id := resp.attr("MSSP_TransID")
	if id == "" {
		return "", &ServiceError{Msg: "MSS_SignatureResp without MSSP_TransID"}
	}
	return id, nil
}

// Status sends an MSS_StatusReq of the MSSP's transaction. Errors: *Fault
// (the transaction ended without a signature), *ServiceError.
func (c *Client) Status(ctx context.Context, apTransID, msspTransID string) (*Status, error) {
	body := fmt.Sprintf(`<mss:MSS_StatusReq xmlns:mss="%s" MajorVersion="1" MinorVersion="1" MSSP_TransID="%s">`, nsMSS, xmlText(msspTransID)) +
		c.apInfo(apTransID, time.Now()) + `</mss:MSS_StatusReq>`
	root, err := c.call(ctx, "MSS_StatusQuery", body)
	if err != nil {
		return nil, err
	}
	resp := root.find("MSS_StatusResp")
	if resp == nil {
		return nil, &ServiceError{Msg: "no MSS_StatusResp in the answer"}
	}
	code, msg := statusOf(resp)
	out := &Status{Code: code, Message: msg}
	switch code {
	case CodeValidSignature, CodeSignature:
		cert, err := signerCertificate(resp)
		if err != nil {
			return nil, &Fault{Code: CodeInvalidSignature, Reason: "INVALID_SIGNATURE", Detail: err.Error()}
		}
		out.Certificate = cert
	case CodeOutstanding, CodeRequestOK:
		out.Code = CodeOutstanding
	case 0:
		return nil, &ServiceError{Msg: "MSS_StatusResp without a status code"}
	default:
		return nil, &Fault{Code: code, Reason: msg}
	}
	return out, nil
}

// call posts a SOAP request and answers the parsed envelope of a success.
func (c *Client) call(ctx context.Context, op, body string) (*node, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(envelope(op, body)))
	if err != nil {
		return nil, &ServiceError{Msg: err.Error()}
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", `"#`+op+`"`)
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &ServiceError{Msg: err.Error()}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, &ServiceError{Msg: err.Error()}
	}
	root, perr := parse(raw)
	if perr == nil {
		if f := root.find("Fault"); f != nil {
			fault := faultOf(f)
			if fault.Code == 0 || fault.Code == CodeInternalError {
				return nil, &ServiceError{Msg: fmt.Sprintf("HTTP %d: %s", resp.StatusCode, fault.Error())}
			}
			return nil, fault
		}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &ServiceError{Msg: fmt.Sprintf("HTTP %d", resp.StatusCode)}
	}
	if perr != nil {
		return nil, &ServiceError{Msg: "unreadable answer: " + perr.Error()}
	}
	return root, nil
}

// node is an XML element, read without regard to namespaces.
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Nodes   []node     `xml:",any"`
}

func parse(b []byte) (*node, error) {
	var n node
	if err := xml.Unmarshal(b, &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// find is the first element named local, depth first (n itself included).
func (n *node) find(local string) *node {
	if n.XMLName.Local == local {
		return n
	}
	for i := range n.Nodes {
		if f := n.Nodes[i].find(local); f != nil {
			return f
		}
	}
	return nil
}

func (n *node) attr(local string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// text is the trimmed text of the first element named local, "" if none.
func (n *node) text(local string) string {
	if f := n.find(local); f != nil {
		return strings.TrimSpace(f.Text)
	}
	return ""
}

// statusOf reads a response's Status: StatusCode's Value and StatusMessage.
func statusOf(resp *node) (int, string) {
	st := resp.find("Status")
	if st == nil {
		return 0, ""
	}
	sc := st.find("StatusCode")
	if sc == nil {
		return 0, ""
	}
	code, _ := strconv.Atoi(strings.TrimSpace(sc.attr("Value")))
	return code, st.text("StatusMessage")
}

var faultCode = regexp.MustCompile(`_(\d{3})\b`)

// faultOf reads a SOAP 1.1 fault (faultcode mss:_401, faultstring, detail)
// or a SOAP 1.2 one (Code/Subcode/Value, Reason/Text, Detail).
func faultOf(f *node) *Fault {
	out := &Fault{}
	for _, name := range []string{"faultcode", "Subcode", "Code"} {
		if c := f.find(name); c != nil {
			var all []string
			c.walk(func(n *node) { all = append(all, n.Text) })
			if m := faultCode.FindStringSubmatch(strings.Join(all, " ")); m != nil {
				out.Code, _ = strconv.Atoi(m[1])
				break
			}
		}
	}
	out.Reason = f.text("faultstring")
	if out.Reason == "" {
		if r := f.find("Reason"); r != nil {
			out.Reason = r.text("Text")
		}
	}
	for _, name := range []string{"detail", "Detail"} {
		if d := f.find(name); d != nil {
			var all []string
			d.walk(func(n *node) {
				if t := strings.TrimSpace(n.Text); t != "" {
					all = append(all, t)
				}
			})
			out.Detail = strings.Join(all, " ")
			break
		}
	}
	return out
}

func (n *node) walk(fn func(*node)) {
	fn(n)
	for i := range n.Nodes {
		n.Nodes[i].walk(fn)
	}
}

// signerCertificate is the signer's certificate: an X509Certificate
// element of the answer, else the first certificate of the PKCS7 signature.
func signerCertificate(resp *node) (*x509.Certificate, error) {
	if t := resp.text("X509Certificate"); t != "" {
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(t), ""))
		if err != nil {
			return nil, fmt.Errorf("X509Certificate: %w", err)
		}
		return x509.ParseCertificate(der)
	}
	t := resp.text("Base64Signature")
	if t == "" {
		return nil, errors.New("the answer holds no signature")
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(t), ""))
	if err != nil {
		return nil, fmt.Errorf("Base64Signature: %w", err)
	}
	certs, err := pkcs7Certificates(der)
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, errors.New("the signature holds no certificate")
	}
	return certs[0], nil
}

var oidSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}

// pkcs7Certificates reads the certificates of a CMS SignedData
// (RFC 5652: ContentInfo{signedData, [0] SignedData{version,
// digestAlgorithms, encapContentInfo, [0] certificates, …}}).
func pkcs7Certificates(der []byte) ([]*x509.Certificate, error) {
	var ci struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue // [0] EXPLICIT SignedData
	}
	if _, err := asn1.Unmarshal(der, &ci); err != nil {
		return nil, fmt.Errorf("PKCS7: %w", err)
	}
	if !ci.ContentType.Equal(oidSignedData) || ci.Content.Class != asn1.ClassContextSpecific || ci.Content.Tag != 0 {
		return nil, fmt.Errorf("PKCS7: content type %v is not signedData", ci.ContentType)
	}
	var sd asn1.RawValue
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, fmt.Errorf("PKCS7 SignedData: %w", err)
	}
	rest := sd.Bytes
	for len(rest) > 0 {
		var el asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &el); err != nil {
			return nil, fmt.Errorf("PKCS7 SignedData: %w", err)
		}
		if el.Class == asn1.ClassContextSpecific && el.Tag == 0 && el.IsCompound {
			return x509.ParseCertificates(el.Bytes)
		}
	}
	return nil, nil
}

// CertificatePKCS7 is a certificates-only CMS SignedData holding cert (the
// shape of a PKCS7 signature's certificate part); the emulator answers it.
func CertificatePKCS7(cert []byte) ([]byte, error) {
	var inner []byte
	for _, v := range []any{
		1,
		asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true},
		struct{ ContentType asn1.ObjectIdentifier }{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}},
		asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: cert},
		asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true},
	} {
		b, err := asn1.Marshal(v)
		if err != nil {
			return nil, err
		}
		inner = append(inner, b...)
	}
	sd, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: inner})
	if err != nil {
		return nil, err
	}
	// [0] EXPLICIT, written out: Marshal writes a RawValue as it is.
	return asn1.Marshal(struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue
	}{oidSignedData, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: sd}})
}

var (
	oidSerialNumber = asn1.ObjectIdentifier{2, 5, 4, 5}
	oidGivenName    = asn1.ObjectIdentifier{2, 5, 4, 42}
	oidSurname      = asn1.ObjectIdentifier{2, 5, 4, 4}
	// semanticsID is ETSI EN 319 412-1's natural person identifier:
	// PNO (personal number) or IDC/PAS/… and a country code, then the code.
	semanticsID = regexp.MustCompile(`^[A-Z]{3}[A-Z]{2}-(.+)$`)
)

// Signer is who signed: the personal code and the names of the
// certificate's subject.
type Signer struct{ PersonalCode, GivenName, Surname string }

// SignerOf reads the subject of cert: serialNumber (PNOEE-38001085718 or a
// bare code), givenName and surname, else the CN "SURNAME,GIVENNAME,CODE".
func SignerOf(cert *x509.Certificate) (Signer, error) {
	var s Signer
	for _, a := range cert.Subject.Names {
		v, _ := a.Value.(string)
		switch {
		case a.Type.Equal(oidSerialNumber):
			s.PersonalCode = v
		case a.Type.Equal(oidGivenName):
			s.GivenName = v
		case a.Type.Equal(oidSurname):
			s.Surname = v
		}
	}
	if parts := strings.Split(cert.Subject.CommonName, ","); len(parts) == 3 {
		if s.Surname == "" {
			s.Surname = parts[0]
		}
		if s.GivenName == "" {
			s.GivenName = parts[1]
		}
		if s.PersonalCode == "" {
			s.PersonalCode = parts[2]
		}
	}
	s.PersonalCode = strings.TrimSpace(s.PersonalCode)
	if m := semanticsID.FindStringSubmatch(s.PersonalCode); m != nil {
		s.PersonalCode = m[1]
	}
	if s.PersonalCode == "" {
		return s, errors.New("the certificate's subject names no personal code")
	}
	return s, nil
}
