package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// adminUser is the identity behind the admin token; system:masters passes
// every RBAC check.
const (
	adminUser  = "admin"
	adminGroup = "system:masters"
)

// credentials are the files the API server, controller-manager and kwok
// read.
type credentials struct {
	token     string // the admin bearer token
	tokenFile string // --token-auth-file: token,user,uid,groups
	saKey     string // service-account signing key (RSA, PKCS#1 PEM)
	saPub     string // its public half (PKIX PEM)

	// kwok's kubelet endpoint serves this self-signed certificate for
	// 127.0.0.1, and the API server trusts exactly it
	// (--kubelet-certificate-authority) when it fetches pod logs.
	kubeletCert string
	kubeletKey  string
}

// writeCredentials generates a fresh admin token, service-account key pair
// and kubelet serving certificate into dir.
func writeCredentials(dir string) (*credentials, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("cluster: generating a token: %w", err)
	}
	c := &credentials{
		token:     hex.EncodeToString(b),
		tokenFile: filepath.Join(dir, "tokens.csv"),
		saKey:     filepath.Join(dir, "sa.key"),
		saPub:     filepath.Join(dir, "sa.pub"),

		kubeletCert: filepath.Join(dir, "kubelet.crt"),
		kubeletKey:  filepath.Join(dir, "kubelet.key"),
	}
	line := fmt.Sprintf("%s,%s,%s-uid,%s\n", c.token, adminUser, adminUser, adminGroup)
	if err := os.WriteFile(c.tokenFile, []byte(line), 0o600); err != nil {
		return nil, fmt.Errorf("cluster: writing the token file: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("cluster: generating the service-account key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("cluster: encoding the service-account key: %w", err)
	}
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(c.saKey, priv, 0o600); err != nil {
		return nil, fmt.Errorf("cluster: writing the service-account key: %w", err)
	}
	if err := os.WriteFile(c.saPub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644); err != nil {
		return nil, fmt.Errorf("cluster: writing the service-account key: %w", err)
	}
	if err := WriteSelfSignedCert(c.kubeletCert, c.kubeletKey, "plexus-e2e-kwok-kubelet"); err != nil {
		return nil, fmt.Errorf("cluster: writing the kubelet serving certificate: %w", err)
	}
	return c, nil
}

// WriteSelfSignedCert writes a self-signed serving certificate for
// 127.0.0.1 and localhost, named name, and its key (ECDSA P-256, quick to
// make), PEM. It is its own CA, so a client verifies the server with it
// alone (the API server kwok's kubelet endpoint, the servers the chaos
// proxy).
func WriteSelfSignedCert(certPath, keyPath, name string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// restConfig is the admin's client configuration: the bearer token, and the
// API server's self-signed serving certificate as the only trusted CA.
func restConfig(url, token string, caData []byte) *rest.Config {
	return &rest.Config{
		Host:            url,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: caData},
		// Tests create objects in bursts; client-side throttling at the
		// default 5 QPS would only measure itself.
		QPS:   200,
		Burst: 400,
	}
}

// writeKubeconfig writes cfg as a kubeconfig (context "plexus-e2e") for the
// control-plane components, kubectl and anyone debugging a kept cluster.
func writeKubeconfig(path string, cfg *rest.Config) error {
	const name = "plexus-e2e"
	kc := clientcmdapi.NewConfig()
	kc.Clusters[name] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: "default"}
	kc.CurrentContext = name
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return fmt.Errorf("cluster: writing the kubeconfig: %w", err)
	}
	return nil
}
