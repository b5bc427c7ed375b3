// Package valimotest is an emulator of a Valimo (Kiuru) MSSP's SOAP
// interface for tests: MSS_Signature in asynchronous client-server mode and
// MSS_StatusQuery (ETSI TS 102 204 v1.1.2 shapes, faults as SOAP faults
// with the MSS status code as mss:_NNN). What each phone number's user
// does is set per number: signs (after some outstanding status queries),
// cancels, lets the request expire, never answers; the service can fail
// with HTTP 503 a number of times first, or refuse the request.
package valimotest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waldur-go/waldur/api/valimo"
)

// Outcome is what the user of a phone does.
type Outcome int

// The outcomes.
const (
	// Signs: the user signs; the status query answers VALID_SIGNATURE with
	// the user's certificate.
	Signs Outcome = iota
	// Cancels: the status query answers the fault USER_CANCEL (401).
	Cancels
	// Expires: the status query answers EXPIRED_TRANSACTION (208).
	Expires
	// Outstanding: the user never answers (OUTSTANDING_TRANSACTION, 504).
	Outstanding
	// Refused: the signature request itself is refused with FaultCode.
	Refused
)

// Person is who holds a phone's mobile ID: the certificate's subject.
type Person struct{ Code, GivenName, Surname string }

// Behavior is what happens to a phone's requests.
type Behavior struct {
	Outcome Outcome
	Person  Person
	// Pending status queries answer OUTSTANDING_TRANSACTION first.
	Pending int
	// Failures signature requests, and StatusFailures status queries,
	// answer HTTP 503 (no SOAP fault) first.
	Failures, StatusFailures int
	// FaultCode is Refused's status code (0: 404 NO_KEY_FOUND).
	FaultCode int
}

// Request is a request the emulator served (or failed).
type Request struct {
	Op                                       string // MSS_Signature or MSS_StatusQuery
	MSISDN, APTransID, Text, MSSPTransID     string
	TimeOut, SignatureProfile, MessagingMode string
	HTTPStatus                               int
}

type txn struct {
	msisdn string
	polls  int
}

// Server is a running emulator.
type Server struct {
	*httptest.Server
	APID, APPassword string

	caKey *ecdsa.PrivateKey
	ca    *x509.Certificate

	mu      sync.Mutex
	phones  map[string]Behavior
	failed  map[string]int // signature requests failed, by phone
	sfailed map[string]int // status queries failed, by phone
	txns    map[string]*txn
	reqs    []Request
	next    int
}

// New starts an emulator accepting apID and apPassword; it stops when the
// test ends.
func New(t testing.TB, apID, apPassword string) *Server {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Mobile ID CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{APID: apID, APPassword: apPassword, caKey: key, ca: ca, phones: map[string]Behavior{},
		failed: map[string]int{}, sfailed: map[string]int{}, txns: map[string]*txn{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Set says what happens to msisdn's requests.
func (s *Server) Set(msisdn string, b Behavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.phones[msisdn] = b
}

// Requests are the requests served so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// node is an XML element, namespaces ignored.
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Nodes   []node     `xml:",any"`
}

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
	if n == nil {
		return ""
	}
	for _, a := range n.Attrs {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

func (n *node) text(local string) string {
	if n == nil {
		return ""
	}
	if f := n.find(local); f != nil {
		return strings.TrimSpace(f.Text)
	}
	return ""
}

var reasons = map[int]string{
	100: "REQUEST_OK", 101: "WRONG_PARAM", 102: "MISSING_PARAM", 104: "UNAUTHORIZED_ACCESS", 105: "UNKNOWN_CLIENT",
	208: "EXPIRED_TRANSACTION", 401: "USER_CANCEL", 404: "NO_KEY_FOUND", 502: "VALID_SIGNATURE",
	504: "OUTSTANDING_TRANSACTION", 900: "INTERNAL_ERROR",
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var env node
	if r.Method != http.MethodPost || xml.Unmarshal(body, &env) != nil {
		http.Error(w, "not a SOAP request", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case env.find("MSS_SignatureReq") != nil:
		s.signature(w, env.find("MSS_SignatureReq"))
	case env.find("MSS_StatusReq") != nil:
		s.status(w, env.find("MSS_StatusReq"))
	default:
		fault(w, 101, "unknown operation")
	}
}

// authorized checks AP_Info's credentials, answering the fault if not.
func (s *Server) authorized(w http.ResponseWriter, req *node) bool {
	ap := req.find("AP_Info")
	if ap.attr("AP_ID") != s.APID {
		fault(w, 105, "unknown AP_ID")
		return false
	}
	if ap.attr("AP_PWD") != s.APPassword {
		fault(w, 104, "wrong AP_PWD")
		return false
	}
	if ap.attr("AP_TransID") == "" || ap.attr("Instant") == "" {
		fault(w, 102, "AP_TransID and Instant are required")
		return false
	}
	return true
}

func (s *Server) signature(w http.ResponseWriter, req *node) {
	rec := Request{Op: "MSS_Signature", MSISDN: req.text("MSISDN"), APTransID: req.find("AP_Info").attr("AP_TransID"),
		Text: req.text("DataToBeSigned"), TimeOut: req.attr("TimeOut"), MessagingMode: req.attr("MessagingMode"),
		SignatureProfile: req.find("SignatureProfile").text("mssURI")}
	defer func() { s.reqs = append(s.reqs, rec) }()
	b, known := s.phones[rec.MSISDN]
	if known && s.failed[rec.MSISDN] < b.Failures {
		s.failed[rec.MSISDN]++
		rec.HTTPStatus = http.StatusServiceUnavailable
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	}
	rec.HTTPStatus = http.StatusInternalServerError // a fault, unless answered below
	if !s.authorized(w, req) {
		return
	}
	if rec.MSISDN == "" {
		fault(w, 102, "MSISDN is required")
		return
	}
	if !known {
		fault(w, 404, "no mobile ID for this MSISDN")
		return
	}
	if b.Outcome == Refused {
		code := b.FaultCode
		if code == 0 {
			code = 404
		}
		fault(w, code, "refused")
		return
	}
	s.next++
	id := fmt.Sprintf("mssp%06d", s.next)
	s.txns[id] = &txn{msisdn: rec.MSISDN}
	rec.MSSPTransID, rec.HTTPStatus = id, http.StatusOK
	answer(w, "MSS_SignatureResponse", fmt.Sprintf(`<mss:MSS_SignatureResp MajorVersion="1" MinorVersion="1" MSSP_TransID="%s">%s`+
		`<mss:MobileUser><mss:MSISDN>%s</mss:MSISDN></mss:MobileUser><mss:SignatureProfile><mss:mssURI>%s</mss:mssURI></mss:SignatureProfile>`+
		`%s</mss:MSS_SignatureResp>`, id, apInfo(req), esc(rec.MSISDN), esc(rec.SignatureProfile), status(100)))
}

func (s *Server) status(w http.ResponseWriter, req *node) {
	id := req.attr("MSSP_TransID")
	rec := Request{Op: "MSS_StatusQuery", APTransID: req.find("AP_Info").attr("AP_TransID"), MSSPTransID: id, HTTPStatus: http.StatusOK}
	defer func() { s.reqs = append(s.reqs, rec) }()
	t := s.txns[id]
	if t != nil {
		rec.MSISDN = t.msisdn
		if b := s.phones[t.msisdn]; s.sfailed[t.msisdn] < b.StatusFailures {
			s.sfailed[t.msisdn]++
			rec.HTTPStatus = http.StatusServiceUnavailable
			http.Error(w, "service unavailable", http.StatusServiceUnavailable)
			return
		}
	}
	rec.HTTPStatus = http.StatusInternalServerError
	if !s.authorized(w, req) {
		return
	}
	if t == nil {
		fault(w, 101, "unknown MSSP_TransID")
		return
	}
	b := s.phones[t.msisdn]
	t.polls++
	resp := func(inner string) {
		rec.HTTPStatus = http.StatusOK
		answer(w, "MSS_StatusQueryResponse", fmt.Sprintf(`<mss:MSS_StatusResp MajorVersion="1" MinorVersion="1">%s`+
			`<mss:MobileUser><mss:MSISDN>%s</mss:MSISDN></mss:MobileUser>%s</mss:MSS_StatusResp>`, apInfo(req), esc(t.msisdn), inner))
	}
	if t.polls <= b.Pending || b.Outcome == Outstanding {
		resp(status(504))
		return
	}
	switch b.Outcome {
	case Cancels:
		fault(w, 401, "the user canceled")
	case Expires:
		fault(w, 208, "the transaction expired")
	default:
		sig, err := s.signatureOf(b.Person)
		if err != nil {
			fault(w, 900, err.Error())
			return
		}
		resp(`<mss:MSS_Signature><mss:Base64Signature>` + sig + `</mss:Base64Signature></mss:MSS_Signature>` + status(502))
	}
}

var (
	oidGivenName = asn1.ObjectIdentifier{2, 5, 4, 42}
	oidSurname   = asn1.ObjectIdentifier{2, 5, 4, 4}
)

// signatureOf is the PKCS7 of p's certificate, base64: the subject's
// serialNumber PNOEE-<code>, givenName, surname and the CN
// "SURNAME,GIVENNAME,CODE" of an Estonian mobile ID.
func (s *Server) signatureOf(p Person) (string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject: pkix.Name{Country: []string{"EE"}, SerialNumber: "PNOEE-" + p.Code,
			CommonName: strings.ToUpper(p.Surname) + "," + strings.ToUpper(p.GivenName) + "," + p.Code,
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidGivenName, Value: p.GivenName}, {Type: oidSurname, Value: p.Surname}}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.ca, &key.PublicKey, s.caKey)
	if err != nil {
		return "", err
	}
	p7, err := valimo.CertificatePKCS7(der)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(p7), nil
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func apInfo(req *node) string {
	ap := req.find("AP_Info")
	return fmt.Sprintf(`<mss:AP_Info AP_ID="%s" AP_TransID="%s" AP_PWD="" Instant="%s"/><mss:MSSP_Info Instant="%s"><mss:MSSP_ID><mss:URI>http://mssp.example.org</mss:URI></mss:MSSP_ID></mss:MSSP_Info>`,
		esc(ap.attr("AP_ID")), esc(ap.attr("AP_TransID")), esc(ap.attr("Instant")), time.Now().UTC().Format(time.RFC3339))
}

func status(code int) string {
	return fmt.Sprintf(`<mss:Status><mss:StatusCode Value="%d"/><mss:StatusMessage>%s</mss:StatusMessage></mss:Status>`, code, reasons[code])
}

const envOpen = `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ` +
	`xmlns:mss="http://uri.etsi.org/TS102204/v1.1.2#" xmlns:fi="http://mss.ficom.fi/TS102204/v1.0.0#"><soapenv:Body>`

func answer(w http.ResponseWriter, op, inner string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = io.WriteString(w, envOpen+"<"+op+">"+inner+"</"+op+"></soapenv:Body></soapenv:Envelope>")
}

// fault answers a SOAP 1.1 fault with the MSS status code (HTTP 500).
func fault(w http.ResponseWriter, code int, detail string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = fmt.Fprintf(w, envOpen+`<soapenv:Fault><faultcode>mss:_%d</faultcode><faultstring>%s</faultstring>`+
		`<detail><ns1:detail xmlns:ns1="http://kiuru.methics.fi/mssp">%s</ns1:detail></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
		code, reasons[code], esc(detail))
}
