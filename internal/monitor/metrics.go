package monitor

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus series of the signals. Labels are bounded:
// outcomes, components, levels and rule names, never a conversation,
// customer, category or source.
type Metrics struct {
	Registry *prometheus.Registry

	turns      *prometheus.CounterVec
	turnTime   prometheus.Histogram
	writes     *prometheus.CounterVec
	ratings    *prometheus.CounterVec
	flags      prometheus.Counter
	probes     *prometheus.HistogramVec
	probeFails *prometheus.CounterVec
	queue      *prometheus.CounterVec
	notices    *prometheus.CounterVec
	firing     *prometheus.GaugeVec
	burn       *prometheus.GaugeVec
	// Posture is the service posture level (0 normal … 3 disaster recovery).
	Posture prometheus.Gauge

	backupSuccess  prometheus.Gauge
	backupFailures prometheus.Counter
	backupSeconds  prometheus.Gauge
	backupBytes    prometheus.Gauge

	mu     sync.Mutex
	active map[[2]string]bool
}

// NewMetrics registers Steward's series (and the Go and process
// collectors) on a new registry.
func NewMetrics() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{Registry: r, active: map[[2]string]bool{},
		turns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "steward_bot_turns_total",
			Help: "Customer messages handled, by outcome (answer, clarify, fallback, handoff, offline, diverted, refused) and whether they failed."},
			[]string{"outcome", "failed"}),
		turnTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "steward_bot_turn_duration_seconds",
			Help: "Time to handle a customer message, store it and its reply.", Buckets: latencyBounds}),
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "steward_store_writes_total",
			Help: "Conversation writes to the store, by result (ok, failed: kept in the spool)."}, []string{"result"}),
		ratings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "steward_ratings_total",
			Help: "Customer ratings, by stars."}, []string{"stars"}),
		flags: prometheus.NewCounter(prometheus.CounterOpts{Name: "steward_wrong_answer_flags_total",
			Help: "Answers flagged as wrong by customers or agents."}),
		probes: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "steward_probe_duration_seconds",
			Help: "Synthetic health checks of components.", Buckets: latencyBounds}, []string{"component"}),
		probeFails: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "steward_probe_failures_total",
			Help: "Failed synthetic health checks, by component."}, []string{"component"}),
		queue: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "steward_queue_events_total",
			Help: "Conversations joining the human queue or leaving it for an agent."}, []string{"event"}),
		notices: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "steward_notifications_total",
			Help: "Notification sends, by result."}, []string{"result"}),
		firing: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "steward_alerts_firing",
			Help: "Alerts firing, by rule and level."}, []string{"alertname", "level"}),
		burn: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "steward_slo_burn_rate",
			Help: "Error-budget burn rate of each SLO over each window."}, []string{"slo", "window"}),
		Posture: prometheus.NewGauge(prometheus.GaugeOpts{Name: "steward_posture_level",
			Help: "Service posture: 0 normal, 1 scoped degradation, 2 rollback and VIP-only bot, 3 disaster recovery."}),
		backupSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "steward_backup_last_success_timestamp_seconds",
			Help: "When the last scheduled backup that was taken and verified finished (Unix time; 0: none since start)."}),
		backupFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "steward_backup_failures_total",
			Help: "Scheduled backups that failed, or failed their verification."}),
		backupSeconds: prometheus.NewGauge(prometheus.GaugeOpts{Name: "steward_backup_last_duration_seconds",
			Help: "How long the last scheduled backup took, its verification included."}),
		backupBytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "steward_backup_last_size_bytes",
			Help: "The size of the last scheduled backup's payload."}),
	}
	r.MustRegister(m.turns, m.turnTime, m.writes, m.ratings, m.flags, m.probes, m.probeFails, m.queue, m.notices,
		m.firing, m.burn, m.Posture, m.backupSuccess, m.backupFailures, m.backupSeconds, m.backupBytes,
		prometheus.NewGoCollector(),
		prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// WriterStats are the store writer's counters since start (store.WriterStats,
// which this package does not import).
type WriterStats struct {
	Batches, Writes uint64
	Busy            time.Duration
}

// WatchWriter exports the store writer's counters, read at each scrape:
// the group commits, the writes in them (their ratio is the mean batch)
// and the writer's busy time (its rate near 1 means writes queue for the
// one writer: the store limits the turn rate).
func (m *Metrics) WatchWriter(stats func() WriterStats) {
	m.Registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "steward_store_write_batches_total",
			Help: "Transactions the store's writer ran, each committing the writes that arrived together (group commit)."},
			func() float64 { return float64(stats().Batches) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "steward_store_batched_writes_total",
			Help: "Write requests the store's writer ran; divided by steward_store_write_batches_total, the mean batch."},
			func() float64 { return float64(stats().Writes) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "steward_store_writer_busy_seconds_total",
			Help: "Time the store's one writer spent running batches, commits included; a rate near 1 means writes queue for it."},
			func() float64 { return stats().Busy.Seconds() }))
}

func (m *Metrics) observe(s *Signal) {
	switch s.Kind {
	case KindTurn:
		m.turns.WithLabelValues(s.Outcome, strconv.FormatBool(s.Failed)).Inc()
		if s.Outcome != OutcomeThrottled { // refused at the door: no turn to time
			m.turnTime.Observe(s.Latency.Seconds())
		}
	case KindWrite:
		if s.Spooled {
			break // the spool's own gauge says how many wait
		}
		if s.Failed {
			m.writes.WithLabelValues("failed").Inc()
		} else {
			m.writes.WithLabelValues("ok").Inc()
		}
	case KindRating:
		if s.Stars >= 1 && s.Stars <= 5 {
			m.ratings.WithLabelValues(strconv.Itoa(s.Stars)).Inc()
		}
	case KindFlag:
		m.flags.Inc()
	case KindProbe:
		m.probes.WithLabelValues(s.Component).Observe(s.Latency.Seconds())
		if s.Failed {
			m.probeFails.WithLabelValues(s.Component).Inc()
		}
	case KindQueue:
		if s.Joined {
			m.queue.WithLabelValues("joined").Inc()
		} else {
			m.queue.WithLabelValues("served").Inc()
		}
	case KindNotify:
		if s.Failed {
			m.notices.WithLabelValues("failed").Inc()
		} else {
			m.notices.WithLabelValues("sent").Inc()
		}
	}
}

func (m *Metrics) setFiring(alerts []Alert) {
	now := map[[2]string]int{}
	for _, a := range alerts {
		now[[2]string{a.Name(), a.Level}]++
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.active {
		if now[k] == 0 {
			m.firing.WithLabelValues(k[0], k[1]).Set(0)
		}
	}
	m.active = map[[2]string]bool{}
	for k, n := range now {
		m.firing.WithLabelValues(k[0], k[1]).Set(float64(n))
		m.active[k] = true
	}
}

func (m *Metrics) setBurn(slo string, window time.Duration, v float64) {
	m.burn.WithLabelValues(slo, window.String()).Set(v)
}

// ObserveBackup records a scheduled backup: a failure (of the backup or of
// its verification) counts; a success moves the last-success time.
func (m *Metrics) ObserveBackup(ok bool, at time.Time, seconds float64, bytes int64) {
	m.backupSeconds.Set(seconds)
	if !ok {
		m.backupFailures.Inc()
		return
	}
	m.backupSuccess.Set(float64(at.UnixNano()) / 1e9)
	m.backupBytes.Set(float64(bytes))
}

// LLMProviderObserver registers the failover's series (llm.fallback) and
// returns what the failover calls with each call's provider (primary,
// fallback) and result (answered, failed, rejected, cancelled, skipped).
func (m *Metrics) LLMProviderObserver() func(provider, result string) {
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "steward_llm_provider_calls_total",
		Help: "Calls to each language model of a failover, by provider (primary, fallback) and result (answered, failed, rejected: the request refused, cancelled: the customer went away, skipped: the primary left alone after failures)."},
		[]string{"provider", "result"})
	m.Registry.MustRegister(calls)
	return func(provider, result string) { calls.WithLabelValues(provider, result).Inc() }
}

// LLMObserver registers the language model's series and returns what the
// llm package calls with each question's result (answered, no_answer,
// failed, budget, busy, open, cancelled, rejected) and how long the call
// took.
func (m *Metrics) LLMObserver() func(result string, took time.Duration) {
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "steward_llm_questions_total",
		Help: "Unsure questions put to the language model, by result (answered, no_answer, failed, budget: over the call budget, busy: too many calls waiting at once, open: left alone after failures, cancelled: the customer went away during the call, rejected: the model refused the request)."},
		[]string{"result"})
	took := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "steward_llm_call_duration_seconds",
		Help: "Time the language model took to answer (or fail).", Buckets: latencyBounds})
	m.Registry.MustRegister(calls, took)
	return func(result string, d time.Duration) {
		calls.WithLabelValues(result).Inc()
		switch result {
		case "answered", "no_answer", "failed", "cancelled", "rejected":
			took.Observe(d.Seconds())
		}
	}
}
