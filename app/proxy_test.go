package app

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/timebridge/timebridge/app/secrets"
	"github.com/timebridge/timebridge/sync/bitrix24/bitrix24test"
	"github.com/timebridge/timebridge/sync/timedoctor/timedoctortest"
	"github.com/timebridge/timebridge/sync/timelog/timelogtest"
)

// Proxy support (issue 9): the Bitrix24, Time Doctor and TimeLog clients that the
// app builds (services.go, no *http.Client of their own) must honour HTTPS_PROXY,
// HTTP_PROXY and NO_PROXY. They do so only through Go's http.DefaultTransport and
// its Proxy func http.ProxyFromEnvironment, so that is what this test exercises —
// with the real client constructors and real requests, no accessor into sync/.
//
// Why it is built the way it is:
//
//   - http.ProxyFromEnvironment reads the environment ONCE per process (a
//     sync.Once inside net/http), at the first request any test makes. t.Setenv
//     after that changes nothing, and a fresh http.Transport does not help (the
//     cache is package-level). So the parent test re-executes this test binary
//     with the proxy variables in the child's environment, as a user's shell would
//     start the app; the child builds the three clients with App's own methods
//     (bitrix24Client, timeDoctorClient, timeLogClient) and calls Me on each.
//   - ProxyFromEnvironment never proxies localhost/127.0.0.1 targets, and the
//     clients accept plain http only for loopback hosts. So the child talks to
//     https://portal.test, https://timedoctor.test and https://timelog.test
//     (.test never resolves, RFC 6761): a request can only succeed through the
//     proxy. The proxy is a forward proxy that answers CONNECT and tunnels to a
//     local TLS front, which holds a throw-away certificate for the three names
//     (the child trusts it via SSL_CERT_FILE) and forwards by Host to the plain
//     http emulators on loopback. The proxy counts tunnels per host, the front
//     counts requests per host.
//   - For https URLs Go uses HTTPS_PROXY (or https_proxy) only; HTTP_PROXY alone
//     applies to http:// URLs, which the clients send only to loopback hosts, where
//     no proxy is ever used. The last case pins that behaviour down.
//   - In the child, DNS fails at once (a resolver whose dial errors), so a client
//     that bypasses the proxy (NO_PROXY) fails fast instead of waiting for DNS.
func TestClientsUseEnvironmentProxy(t *testing.T) {
	if spec := os.Getenv(proxyChildEnv); spec != "" {
		proxyChild(t, spec)
		return
	}
	env := newProxyEnv(t)
	for _, tc := range []struct {
		name   string
		vars   map[string]string // PROXY is replaced by the proxy's URL
		viaAll []string          // services whose requests must go through the proxy
	}{
		{"HTTPS_PROXY", map[string]string{"HTTPS_PROXY": "PROXY"},
			[]string{"bitrix24", "timedoctor", "timelog"}},
		{"https_proxy with NO_PROXY", map[string]string{"https_proxy": "PROXY", "NO_PROXY": "timedoctor.test,timelog.test"},
			[]string{"bitrix24"}},
		{"HTTP_PROXY alone does not apply to https", map[string]string{"HTTP_PROXY": "PROXY"},
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env.reset()
			results := env.runChild(t, tc.vars, tc.viaAll)
			for svc, msg := range results {
				t.Logf("%s: %q; front saw %v", svc, msg, env.reqsOf(proxyHosts[svc]))
			}
			for _, svc := range []string{"bitrix24", "timedoctor", "timelog"} {
				host := proxyHosts[svc]
				tunnels, reqs := env.seen(host)
				if slices.Contains(tc.viaAll, svc) {
					if results[svc] != "" {
						t.Errorf("%s: Me failed through the proxy: %s", svc, results[svc])
					}
					if tunnels == 0 || len(reqs) == 0 {
						t.Errorf("%s: the proxy tunnelled %d connections to %s and the front saw %v; want the requests through the proxy",
							svc, tunnels, host, reqs)
					}
					continue
				}
				if !strings.Contains(results[svc], "lookup "+host) {
					t.Errorf("%s: got %q; want a direct attempt that fails at DNS (lookup %s)", svc, results[svc], host)
				}
				if tunnels != 0 || len(reqs) != 0 {
					t.Errorf("%s: the proxy tunnelled %d connections to %s (requests %v); want none (%v)", svc, tunnels, host, reqs, tc.vars)
				}
			}
			if plain := env.plainRequests(); len(plain) > 0 {
				t.Errorf("the proxy got plain-http requests %v; want https through CONNECT only", plain)
			}
		})
	}
}

// proxyChildEnv carries the child's JSON proxySpec; set only in the re-executed test binary.
const proxyChildEnv = "TIMEBRIDGE_PROXY_TEST_CHILD"

// proxyHosts are the names the child uses; only the proxy can reach them.
var proxyHosts = map[string]string{"bitrix24": "portal.test", "timedoctor": "timedoctor.test", "timelog": "timelog.test"}

// proxySpec is what the child needs to sign in to the emulators (test credentials).
type proxySpec struct {
	Webhook, TimeDoctorURL, TimeDoctorToken, TimeDoctorCompany, TimeLogURL, TimeLogToken string
	// Direct are the services expected to bypass the proxy: their first attempt
	// fails at DNS at once, and a short deadline cuts their retries off.
	Direct []string
}

type proxyEnv struct {
	spec    proxySpec
	certPEM string // file with the front's certificate
	proxy   string // forward proxy URL (loopback)

	mu      sync.Mutex
	tunnels map[string]int      // CONNECT host → count
	reqs    map[string][]string // front: Host → "METHOD path"
	plain   []string            // non-CONNECT requests the proxy got
}

// newProxyEnv starts the emulators, the TLS front and the forward proxy.
func newProxyEnv(t *testing.T) *proxyEnv {
	t.Helper()
	now := time.Now()
	e := &proxyEnv{}
	e.reset()

	b24 := bitrix24test.New(bitrix24test.Options{Start: now})
	t.Cleanup(b24.Close)
	ann := b24.AddUser(bitrix24test.User{Name: "Ann", LastName: "Example", Email: "ann@example.com"})
	td := timedoctortest.New(timedoctortest.Options{Start: now})
	t.Cleanup(td.Close)
	co := td.AddCompany("Example Inc", "UTC")
	tdAnn := td.AddUser(timedoctortest.User{Company: co, Role: "admin", Name: "Ann Example", Email: "ann@example.com"})
	tl := timelogtest.New(timelogtest.Options{Start: now, Zone: time.UTC,
		Owner: timelogtest.User{UserID: 29, FirstName: "Ann", LastName: "Example", Email: "ann@example.com"}})
	t.Cleanup(tl.Close)

	backends := map[string]*url.URL{}
	for svc, raw := range map[string]string{"bitrix24": b24.URL, "timedoctor": td.URL, "timelog": tl.URL} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		backends[proxyHosts[svc]] = &url.URL{Scheme: u.Scheme, Host: u.Host}
	}
	swapHost := func(raw, svc string) string {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		u.Scheme, u.Host = "https", proxyHosts[svc]
		return u.String()
	}
	e.spec = proxySpec{
		Webhook:       swapHost(b24.AddWebhook(ann), "bitrix24"),
		TimeDoctorURL: "https://timedoctor.test", TimeDoctorToken: td.IssueToken(tdAnn), TimeDoctorCompany: co,
		TimeLogURL: swapHost(tl.URL, "timelog"), TimeLogToken: tl.Token,
	}

	cert, certPEM := proxyTestCert(t, slices.Sorted(maps.Values(proxyHosts)))
	e.certPEM = filepath.Join(t.TempDir(), "front.pem")
	if err := os.WriteFile(e.certPEM, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}

	// The TLS front: the "internet" behind the proxy.
	front := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		target, ok := backends[host]
		if !ok {
			http.Error(w, "unknown host "+host, http.StatusBadGateway)
			return
		}
		e.mu.Lock()
		e.reqs[host] = append(e.reqs[host], r.Method+" "+r.URL.Path)
		e.mu.Unlock()
		rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }}
		rp.ServeHTTP(w, r)
	}))
	front.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	front.StartTLS()
	t.Cleanup(front.Close)
	frontAddr := front.Listener.Addr().String()

	// The forward proxy: CONNECT to a known host on 443 is tunnelled to the front.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			e.mu.Lock()
			e.plain = append(e.plain, r.Method+" "+r.URL.String())
			e.mu.Unlock()
			http.Error(w, "this proxy only tunnels (CONNECT)", http.StatusMethodNotAllowed)
			return
		}
		host, port, err := net.SplitHostPort(r.Host)
		if _, ok := backends[host]; err != nil || !ok || port != "443" {
			http.Error(w, "unknown host "+r.Host, http.StatusBadGateway)
			return
		}
		e.mu.Lock()
		e.tunnels[host]++
		e.mu.Unlock()
		up, err := net.Dial("tcp", frontAddr)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		tunnel(conn, brw, up)
	}))
	t.Cleanup(proxy.Close)
	e.proxy = proxy.URL
	return e
}

// tunnel copies both ways until either side is done.
func tunnel(conn net.Conn, brw *bufio.ReadWriter, up net.Conn) {
	defer conn.Close()
	defer up.Close()
	if _, err := conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(up, brw) // brw holds what the client sent after the CONNECT line
		if tc, ok := up.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
	}()
	io.Copy(conn, up)
	conn.Close()
	<-done
}

func (e *proxyEnv) reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tunnels, e.reqs, e.plain = map[string]int{}, map[string][]string{}, nil
}

func (e *proxyEnv) seen(host string) (tunnels int, reqs []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tunnels[host], slices.Clone(e.reqs[host])
}

func (e *proxyEnv) reqsOf(host string) []string { _, r := e.seen(host); return r }

func (e *proxyEnv) plainRequests() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.plain)
}

// runChild re-executes this test in a process whose environment holds vars, and
// returns the child's result per service ("" for success, else the error).
func (e *proxyEnv) runChild(t *testing.T, vars map[string]string, via []string) map[string]string {
	t.Helper()
	sp := e.spec
	for svc := range proxyHosts {
		if !slices.Contains(via, svc) {
			sp.Direct = append(sp.Direct, svc)
		}
	}
	spec, err := json.Marshal(sp)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 45*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestClientsUseEnvironmentProxy$", "-test.count=1")
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); strings.ToUpper(k) {
		case "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "REQUEST_METHOD", "SSL_CERT_FILE", "SSL_CERT_DIR":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+strings.ReplaceAll(v, "PROXY", e.proxy))
	}
	cmd.Env = append(cmd.Env, proxyChildEnv+"="+string(spec), "SSL_CERT_FILE="+e.certPEM)
	out, err := cmd.CombinedOutput()
	results := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "proxy-result "); ok {
			svc, msg, _ := strings.Cut(rest, " ")
			results[svc] = msg
		}
	}
	if err != nil || len(results) != 3 {
		t.Fatalf("child (%v): %v, results %v\n%s", vars, err, results, out)
	}
	for svc, msg := range results {
		if msg == "ok" {
			results[svc] = ""
		}
	}
	return results
}

// proxyChild is the re-executed side: it builds the clients as the app does and
// prints one "proxy-result <service> ok|<error>" line per service.
func proxyChild(t *testing.T, raw string) {
	var spec proxySpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		t.Fatal(err)
	}
	net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no DNS in this test: only the proxy reaches the .test hosts")
	}}
	a, err := open(Env{}.withDefaults(), t.TempDir(), "memory", false)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := t.Context()
	for _, kv := range [][2]string{
		{"timedoctor.api_url", spec.TimeDoctorURL}, {"timedoctor.company", spec.TimeDoctorCompany},
		{"timelog.api_url", spec.TimeLogURL}, {keyBitrix24Webhook, spec.Webhook},
	} {
		if err := a.setConfig(ctx, kv[0], kv[1]); err != nil {
			t.Fatalf("%s: %v", kv[0], err)
		}
	}
	if err := secrets.SetJSON(ctx, a.Secrets, keyTimeDoctorToken, timeDoctorToken{Token: spec.TimeDoctorToken,
		ExpiresAt: time.Now().Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := a.Secrets.Set(ctx, keyTimeLogToken, secrets.Secret(spec.TimeLogToken)); err != nil {
		t.Fatal(err)
	}
	me := map[string]func(context.Context) error{
		"bitrix24": func(ctx context.Context) error {
			c, err := a.bitrix24Client(ctx)
			if err == nil {
				_, err = c.Me(ctx)
			}
			return err
		},
		"timedoctor": func(ctx context.Context) error {
			c, err := a.timeDoctorClient(ctx)
			if err == nil {
				_, err = c.Me(ctx)
			}
			return err
		},
		"timelog": func(ctx context.Context) error {
			c, err := a.timeLogClient(ctx)
			if err == nil {
				_, err = c.Me(ctx)
			}
			return err
		},
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, svc := range slices.Sorted(maps.Keys(me)) {
		wg.Go(func() {
			d := 30 * time.Second
			if slices.Contains(spec.Direct, svc) {
				d = time.Second
			}
			cctx, cancel := context.WithTimeout(ctx, d)
			err := me[svc](cctx)
			cancel()
			msg := "ok"
			if err != nil {
				msg = strings.ReplaceAll(err.Error(), "\n", " ")
			}
			mu.Lock()
			fmt.Printf("proxy-result %s %s\n", svc, msg)
			mu.Unlock()
		})
	}
	wg.Wait()
}

// proxyTestCert makes a self-signed certificate for hosts (valid for an hour).
func proxyTestCert(t *testing.T, hosts []string) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "timebridge proxy test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: hosts, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
