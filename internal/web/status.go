package web

import (
	"bytes"
	"net/http"
	"net/url"
)

// statusStrings are the public status page's UI strings by language. The
// template uses them by key ({{.T.key}}) and status.js gets the same map as
// JSON. Keys of the form prefix_value label values from /api/v1/status
// (status_partial_outage, phase_monitoring…); "{n}"-style placeholders are
// filled by the script. Severities use the console's words (alertlevel_*).
var statusStrings = map[string]map[string]string{
	"zh-CN": {
		"title":      "服务状态",
		"switchLang": "English",
		"noscript":   "本页面需要启用 JavaScript。",
		"loading":    "正在获取服务状态…",
		"loadFailed": "暂时无法获取最新状态，正在重试…",
		"backToChat": "联系在线客服",
		"updatedAt":  "更新于 {time}",
		"autoUpdate": "每 5 秒自动刷新",

		"status_operational":          "所有服务运行正常",
		"status_degraded_performance": "部分服务受限",
		"status_partial_outage":       "部分服务受到影响",
		"status_major_outage":         "服务出现重大故障",

		"banner_incident":               "正在处理一起事件",
		"banner_incident_investigating": "正在调查一起事件",
		"banner_incident_identified":    "已查明原因，正在处理一起事件",
		"banner_incident_monitoring":    "已采取修复措施，正在观察",
		"banner_incident_resolved":      "事件已解决",

		"component_operational":          "正常",
		"component_degraded_performance": "受限",
		"component_partial_outage":       "部分中断",
		"component_major_outage":         "中断",

		"notice":              "客户提示",
		"currentIncident":     "当前事件",
		"phases":              "处理进度",
		"phase_investigating": "调查中",
		"phase_identified":    "已定位",
		"phase_monitoring":    "观察中",
		"phase_resolved":      "已解决",
		"startedAt":           "开始于 {time}",
		"updates":             "事件动态",
		"noUpdates":           "暂无更新",
		"components":          "服务组件",
		"componentsEmpty":     "暂无组件信息",
		"history":             "近期事件",
		"historyEmpty":        "近期没有发生事件",
		"historyUnavailable":  "事件记录暂时无法读取，服务状态以上方为准",
		"lasted":              "持续 {d}",
		"ongoing":             "进行中",
		"severity_info":       "一般",
		"severity_warning":    "重要",
		"severity_critical":   "紧急",
		"minutes":             "{n} 分钟",
		"hoursMinutes":        "{h} 小时 {m} 分钟",
		"lessThanMinute":      "<1 分钟",
	},
	"en": {
		"title":      "Service status",
		"switchLang": "中文",
		"noscript":   "This page needs JavaScript.",
		"loading":    "Checking the service status…",
		"loadFailed": "Could not get the latest status; retrying…",
		"backToChat": "Chat with customer service",
		"updatedAt":  "Updated {time}",
		"autoUpdate": "Refreshes every 5 seconds",

		"status_operational":          "All systems operational",
		"status_degraded_performance": "Degraded performance",
		"status_partial_outage":       "Partial outage",
		"status_major_outage":         "Major outage",

		"banner_incident":               "We are working on an incident",
		"banner_incident_investigating": "We are investigating an incident",
		"banner_incident_identified":    "We have found the cause of an incident and are fixing it",
		"banner_incident_monitoring":    "A fix is in place and we are monitoring the results",
		"banner_incident_resolved":      "The incident is resolved",

		"component_operational":          "Operational",
		"component_degraded_performance": "Degraded",
		"component_partial_outage":       "Partial outage",
		"component_major_outage":         "Major outage",

		"notice":              "Notice",
		"currentIncident":     "Current incident",
		"phases":              "Progress",
		"phase_investigating": "Investigating",
		"phase_identified":    "Identified",
		"phase_monitoring":    "Monitoring",
		"phase_resolved":      "Resolved",
		"startedAt":           "Started {time}",
		"updates":             "Updates",
		"noUpdates":           "No updates yet",
		"components":          "Components",
		"componentsEmpty":     "No components reported",
		"history":             "Recent incidents",
		"historyEmpty":        "No recent incidents",
		"historyUnavailable":  "The incident history cannot be read right now; the status above is current",
		"lasted":              "lasted {d}",
		"ongoing":             "ongoing",
		"severity_info":       "info",
		"severity_warning":    "warning",
		"severity_critical":   "critical",
		"minutes":             "{n} min",
		"hoursMinutes":        "{h} h {m} min",
		"lessThanMinute":      "less than a minute",
	},
}

// statusPage renders the public status page in the request's language,
// chosen as for the console. It needs no session: status.js reads the
// public /api/v1/status.
func statusPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := consoleLang(w, r)
		other := "en"
		if lang == "en" {
			other = "zh-CN"
		}
		q := r.URL.Query()
		q.Set("lang", other)
		strs := statusStrings[lang]
		p := consolePage{Lang: lang, Title: strs["title"], T: strs, I18N: consoleI18N{Lang: lang, T: strs}, OtherLang: other,
			SwitchURL: (&url.URL{Path: r.URL.Path, RawQuery: q.Encode()}).String(), Script: "status.js"}
		var buf bytes.Buffer
		if err := consoleTemplates.ExecuteTemplate(&buf, "status.html", p); err != nil {
			http.Error(w, "render page: "+err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", consoleCSP)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-cache")
		h.Set("Vary", "Cookie, Accept-Language")
		w.Write(buf.Bytes())
	})
}
