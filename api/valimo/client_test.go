package valimo

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestFaults: SOAP 1.1 and 1.2 faults give their MSS status code, reason
// and detail (the 1.2 one as Kiuru-based services document it).
func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		name, xml string
		want      Fault
	}{
		{"SOAP 1.2", `<soapenv:Envelope xmlns:soapenv="http://www.w3.org/2003/05/soap-envelope"><soapenv:Body><soapenv:Fault>
			<soapenv:Code><soapenv:Value>soapenv:Sender</soapenv:Value>
			<soapenv:Subcode xmlns:mss="http://uri.etsi.org/TS102204/v1.1.2#"><soapenv:Value>mss:_101</soapenv:Value></soapenv:Subcode></soapenv:Code>
			<soapenv:Reason><soapenv:Text xml:lang="en">WRONG_PARAM</soapenv:Text></soapenv:Reason>
			<soapenv:Detail><ns1:detail xmlns:ns1="http://kiuru.methics.fi/mssp">Illegal msisdn</ns1:detail></soapenv:Detail>
			</soapenv:Fault></soapenv:Body></soapenv:Envelope>`, Fault{Code: 101, Reason: "WRONG_PARAM", Detail: "Illegal msisdn"}},
		{"SOAP 1.1", `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault>
			<faultcode xmlns:mss="http://uri.etsi.org/TS102204/v1.1.2#">mss:_401</faultcode><faultstring>USER_CANCEL</faultstring>
			<detail><ns1:detail xmlns:ns1="http://kiuru.methics.fi/mssp">canceled</ns1:detail></detail>
			</soapenv:Fault></soapenv:Body></soapenv:Envelope>`, Fault{Code: 401, Reason: "USER_CANCEL", Detail: "canceled"}},
		{"no code", `<Envelope><Body><Fault><faultcode>soapenv:Server</faultcode><faultstring>boom</faultstring></Fault></Body></Envelope>`,
			Fault{Reason: "boom"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, err := parse([]byte(tc.xml))
			require.NoError(t, err)
			f := root.find("Fault")
			require.NotNil(t, f)
			require.Equal(t, tc.want, *faultOf(f))
		})
	}
}

// TestSigner: the personal code and names of a certificate's subject, read
// through a PKCS7 signature as the status answer carries it.
func TestSigner(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	cert := func(name pkix.Name) *x509.Certificate {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: name, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		require.NoError(t, err)
		p7, err := CertificatePKCS7(der)
		require.NoError(t, err)
		certs, err := pkcs7Certificates(p7)
		require.NoError(t, err)
		require.Len(t, certs, 1)
		return certs[0]
	}
	for _, tc := range []struct {
		name    string
		subject pkix.Name
		want    Signer
	}{
		{"ETSI semantics identifier", pkix.Name{SerialNumber: "PNOEE-38001085718", ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: oidGivenName, Value: "Mari"}, {Type: oidSurname, Value: "Maasikas"}}},
			Signer{PersonalCode: "38001085718", GivenName: "Mari", Surname: "Maasikas"}},
		{"bare serial number", pkix.Name{SerialNumber: "38001085718"}, Signer{PersonalCode: "38001085718"}},
		{"common name only", pkix.Name{CommonName: "MAASIKAS,MARI,38001085718"},
			Signer{PersonalCode: "38001085718", GivenName: "MARI", Surname: "MAASIKAS"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := SignerOf(cert(tc.subject))
			require.NoError(t, err)
			require.Equal(t, tc.want, s)
		})
	}
	_, err = SignerOf(cert(pkix.Name{CommonName: "Nobody"}))
	require.Error(t, err)
}
