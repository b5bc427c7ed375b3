// Package temporalserver runs a Temporal server (and its Web UI) inside the
// waldur process: the zero-setup default of `waldur serve`, and what tests
// start in-process. Production points WALDUR_TEMPORAL_ADDRESS at a cluster
// instead and never starts this.
package temporalserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

// Pragmas are the SQLite settings of the embedded server's database. They
// decide the platform's workflow throughput on one machine: with the default
// rollback journal and synchronous=FULL, every Temporal write waits for two
// fsyncs (~20 workflows/s measured here); WAL with synchronous=NORMAL needs
// one fsync per checkpoint instead (~51/s). The trade-off: a crash of the
// process loses nothing (WAL is durable against process death), but a power
// loss or kernel crash may roll back the last transactions before the most
// recent checkpoint. Production deployments that cannot accept that run an
// external Temporal cluster on PostgreSQL.
var Pragmas = map[string]string{
	"journal_mode": "wal",
	"synchronous":  "normal",
	"busy_timeout": "10000",
}

// Options configure an embedded server.
type Options struct {
	// FrontendAddr is host:port of the gRPC frontend clients dial.
	FrontendAddr string
	// UIAddr is host:port of the Web UI; empty starts no UI.
	UIAddr string
	// DatabaseFile is the SQLite file; empty keeps everything in memory (tests).
	DatabaseFile string
	// Namespace is created on first start, with SearchAttributes registered.
	Namespace        string
	SearchAttributes map[string]enums.IndexedValueType
	// Logger receives the server's logs at or above LogLevel.
	Logger   *slog.Logger
	LogLevel slog.Level
}

// Server is a running embedded Temporal server.
type Server struct {
	server   temporal.Server
	ui       *uiserver.Server
	uiErr    chan error
	stopOnce sync.Once
}

// Start checks that the ports are free, prepares the database and namespace,
// and starts the server and the UI. It returns when the frontend accepts calls.
func Start(o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	host, portStr, err := net.SplitHostPort(o.FrontendAddr)
	if err != nil {
		return nil, fmt.Errorf("temporal: frontend address %q: %v", o.FrontendAddr, err)
	}
	port, _ := strconv.Atoi(portStr)
	if err := checkFree(o.FrontendAddr); err != nil {
		return nil, fmt.Errorf("temporal: cannot listen on %s: %v", o.FrontendAddr, err)
	}
	if o.UIAddr != "" {
		if err := checkFree(o.UIAddr); err != nil {
			return nil, fmt.Errorf("temporal ui: cannot listen on %s: %v", o.UIAddr, err)
		}
	}
	ports := make([]int, 4) // frontend HTTP, history, matching, worker
	for i := range ports {
		if ports[i], err = freePort(host); err != nil {
			return nil, fmt.Errorf("temporal: %v", err)
		}
	}

	sqlCfg, err := sqlConfig(o)
	if err != nil {
		return nil, err
	}
	const clusterName = "active"
	conf := &config.Config{}
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = host
	conf.Persistence.DefaultStore = "sqlite-default"
	conf.Persistence.VisibilityStore = "sqlite-default"
	conf.Persistence.NumHistoryShards = 1
	conf.Persistence.DataStores = map[string]config.DataStore{"sqlite-default": {SQL: sqlCfg}}
	conf.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             o.FrontendAddr,
				HTTPAddress:            net.JoinHostPort(host, strconv.Itoa(ports[0])),
				ClusterID:              "waldur-embedded",
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	svc := func(grpcPort, httpPort int) config.Service {
		var s config.Service
		s.RPC.GRPCPort = grpcPort
		s.RPC.HTTPPort = httpPort
		s.RPC.BindOnIP = host
		return s
	}
	conf.Services = map[string]config.Service{
		"frontend": svc(port, ports[0]),
		"history":  svc(ports[1], 0),
		"matching": svc(ports[2], 0),
		"worker":   svc(ports[3], 0),
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = o.FrontendAddr

	logger := newLogger(o.Logger, o.LogLevel)
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("temporal: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("temporal: %w", err)
	}
	hostOf := func(p int) static.Hosts { return static.SingleLocalHost(net.JoinHostPort(host, strconv.Itoa(p))) }
	dyn := dynamicconfig.StaticClient{
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                 8096,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
		// Schedules fire on time even right after start-up.
		dynamicconfig.FrontendEnableSchedules.Key(): true,
		// The history service's task schedulers start their workers up
		// front: 512 each for the timer, transfer, visibility and
		// replication queues by default, sized for a cluster's many
		// shards. One shard on one SQLite writer cannot use them: they were
		// 2,240 idle goroutines of the process's 3,600 (19 MB of stacks,
		// each scanned by every GC).
		dynamicconfig.TimerProcessorSchedulerWorkerCount.Key():                  32,
		dynamicconfig.TransferProcessorSchedulerWorkerCount.Key():               32,
		dynamicconfig.VisibilityProcessorSchedulerWorkerCount.Key():             16,
		dynamicconfig.ArchivalProcessorSchedulerWorkerCount.Key():               4,
		dynamicconfig.MemoryTimerProcessorSchedulerWorkerCount.Key():            8,
		dynamicconfig.ReplicationProcessorSchedulerWorkerCount.Key():            4,
		dynamicconfig.ReplicationLowPriorityProcessorSchedulerWorkerCount.Key(): 2,
		// Tasks go to a task queue's root partition, where every poll ends
		// up (a poll of another partition is forwarded there). With the
		// default four, a task written to a partition whose poll had just
		// been forwarded away waited for the next poll there. The read
		// partitions stay four, so tasks a data directory holds from
		// before are still read.
		dynamicconfig.MatchingNumTaskqueueWritePartitions.Key(): 1,
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(map[primitives.ServiceName]static.Hosts{
			primitives.FrontendService: hostOf(port),
			primitives.HistoryService:  hostOf(ports[1]),
			primitives.MatchingService: hostOf(ports[2]),
			primitives.WorkerService:   hostOf(ports[3]),
		}),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, fmt.Errorf("temporal: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("temporal: %w", err)
	}
	s := &Server{server: srv, uiErr: make(chan error, 1)}
	if o.UIAddr != "" {
		uiHost, uiPortStr, _ := net.SplitHostPort(o.UIAddr)
		uiPort, _ := strconv.Atoi(uiPortStr)
		s.ui = uiserver.NewServer(uiserveroptions.WithConfigProvider(&uiconfig.Config{
			Host:                uiHost,
			Port:                uiPort,
			TemporalGRPCAddress: o.FrontendAddr,
			EnableUI:            true,
			DefaultNamespace:    o.Namespace,
			CORS:                uiconfig.CORS{CookieInsecure: true},
			HideLogs:            true,
		}))
		go func() { s.uiErr <- s.ui.Start() }()
	}
	return s, nil
}

// UIErr delivers the UI server's exit error, if it stops on its own.
func (s *Server) UIErr() <-chan error { return s.uiErr }

// Stop stops the UI and the server; it is safe to call more than once.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.ui != nil {
			s.ui.Stop()
		}
		_ = s.server.Stop()
	})
}

func sqlConfig(o Options) (*config.SQL, error) {
	c := &config.SQL{PluginName: sqliteplugin.PluginName, ConnectAttributes: map[string]string{}}
	if o.DatabaseFile == "" {
		c.ConnectAttributes["mode"] = "memory"
		c.ConnectAttributes["cache"] = "shared"
		c.DatabaseName = "waldur-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatUint(uint64(nextMemID()), 10)
	} else {
		c.ConnectAttributes["mode"] = "rwc"
		for k, v := range Pragmas {
			c.ConnectAttributes[k] = v
		}
		c.DatabaseName = o.DatabaseFile
		if err := os.MkdirAll(filepath.Dir(o.DatabaseFile), 0o750); err != nil {
			return nil, fmt.Errorf("temporal: %v", err)
		}
		if _, err := os.Stat(o.DatabaseFile); errors.Is(err, os.ErrNotExist) {
			if err := sqliteschema.SetupSchema(c); err != nil {
				_ = os.Remove(o.DatabaseFile)
				return nil, fmt.Errorf("temporal: setting up the schema of %s: %w", o.DatabaseFile, err)
			}
		}
	}
	ns, err := sqliteschema.NewNamespaceConfig("active", o.Namespace, false, o.SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("temporal: %w", err)
	}
	if err := sqliteschema.CreateNamespaces(c, ns); err != nil {
		return nil, fmt.Errorf("temporal: %w", err)
	}
	return c, nil
}

var (
	memMu sync.Mutex
	memID uint32
)

func nextMemID() uint32 {
	memMu.Lock()
	defer memMu.Unlock()
	memID++
	return memID
}

func checkFree(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			return op.Err
		}
		return err
	}
	return l.Close()
}

// freePort asks the kernel for an unused port on host.
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("no free port on %s: %v", host, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
