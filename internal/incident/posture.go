// Package incident is Steward's crisis response: the service posture the
// engine reads on every turn, the playbooks that map alerts to actions,
// incidents with their timelines, postmortems written from the rollups,
// and the fault-injection points the drills use.
package incident

import (
	"fmt"
	"github.com/steward-cs/steward/internal/errcode"
	"maps"
	"slices"
	"strings"
	"time"
)

// Levels of the posture.
const (
	Normal = 0
	Level1 = 1 // a scope (categories, intents, or everything) goes to a person or the fallback flow
	Level2 = 2 // the last good knowledge release, bot only for VIP customers
	Level3 = 3 // disaster recovery: the minimal release, essential answers only
)

// Notice is what customers are told in both languages.
type Notice struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// Posture is the service posture: one small value, persisted, read by the
// engine on every turn.
type Posture struct {
	Level int `json:"level"`
	// Level 1 scope.
	All        bool     `json:"all,omitempty"`
	Categories []string `json:"categories,omitempty"`
	Intents    []string `json:"intents,omitempty"`
	// Human: the level-1 scope goes to a person; otherwise the fallback flow.
	Human bool `json:"human,omitempty"`
	// Throttle holds traffic sources limited to a rate (messages/s).
	Throttle map[string]float64 `json:"throttle,omitempty"`
	// Notice overrides the level's notice text.
	Notice     *Notice   `json:"notice,omitempty"`
	Since      time.Time `json:"since,omitzero"`
	IncidentID string    `json:"incident_id,omitempty"`
	// Manual: set by an operator; the controller does not change it until
	// the operator hands back to automatic.
	Manual bool   `json:"manual,omitempty"`
	SetBy  string `json:"set_by,omitempty"`
	// SetByName is the name of who set it, as it was then.
	SetByName string `json:"set_by_name,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// ReasonZH is the reason in Chinese when the controller wrote it (an
	// operator's reason is in their own words, in Reason only).
	ReasonZH string `json:"reason_zh,omitempty"`
}

// IsNormal reports whether nothing is degraded or throttled.
func (p Posture) IsNormal() bool { return p.Level == Normal && len(p.Throttle) == 0 }

// Validate checks a posture set by hand.
func (p Posture) Validate() error {
	if p.Level < Normal || p.Level > Level3 {
		return errcode.Localized(errcode.Invalid, "level must be 0 (normal), 1, 2 or 3, not %d", "级别应为 0（正常）、1、2 或 3，而不是 %d", p.Level)
	}
	if p.Level == Level1 && !p.All && len(p.Categories) == 0 && len(p.Intents) == 0 {
		return errcode.Localized(errcode.Invalid, "a level 1 posture needs a scope: all, categories or intents",
			"一级降级需要范围：全部、类别或意图")
	}
	if len(p.Categories) > 100 || len(p.Intents) > 100 || len(p.Throttle) > 100 {
		return errcode.Localized(errcode.Invalid, "at most 100 categories, intents and throttled sources",
			"类别、意图和限流来源各最多 100 个")
	}
	for src, r := range p.Throttle {
		if src == "" || r <= 0 {
			return errcode.Localized(errcode.Invalid, "throttle: source %q needs a positive rate", "限流：来源 %q 需要正的速率", src)
		}
	}
	if p.Notice != nil && (p.Notice.ZH == "") != (p.Notice.EN == "") {
		// Customers read it in their language: with one text, the others
		// would get it in the wrong one (or none).
		return errcode.Localized(errcode.Invalid, "a notice needs both zh and en text, or neither", "公告需要同时有中文和英文，或都不填")
	}
	if p.Notice != nil && (len([]rune(p.Notice.ZH)) > 500 || len([]rune(p.Notice.EN)) > 500) {
		return errcode.Localized(errcode.Invalid, "notice texts are at most 500 characters", "公告文字最多 500 个字符")
	}
	return nil
}

// covers reports whether p is at least as severe as q in every respect,
// so moving from p to q is a step down (or no change).
func (p Posture) covers(q Posture) bool {
	if q.Level > p.Level {
		return false
	}
	if q.Level == Level1 && p.Level == Level1 {
		if q.All && !p.All {
			return false
		}
		if !p.All {
			for _, c := range q.Categories {
				if !slices.Contains(p.Categories, c) {
					return false
				}
			}
			for _, i := range q.Intents {
				if !slices.Contains(p.Intents, i) {
					return false
				}
			}
		}
		if q.Human && !p.Human {
			return false
		}
	}
	for src := range q.Throttle {
		if _, ok := p.Throttle[src]; !ok {
			return false
		}
	}
	return true
}

// same reports whether p and q degrade the same way.
func (p Posture) same(q Posture) bool { return p.covers(q) && q.covers(p) }

// merge is the union of p and q: the higher level, both scopes, all
// throttles.
func merge(p, q Posture) Posture {
	out := p
	out.Level = max(p.Level, q.Level)
	if q.Level > p.Level {
		// An operator's notice was written for p's level: under a graver
		// one, customers are told what that level means (a level-1 text
		// under disaster recovery told them the bot still answered).
		out.Notice = q.Notice
	}
	if q.Level == Level1 || p.Level == Level1 {
		out.All = p.All || q.All
		out.Human = p.Human || q.Human
		out.Categories = union(p.Categories, q.Categories)
		out.Intents = union(p.Intents, q.Intents)
	}
	if len(q.Throttle) > 0 {
		out.Throttle = map[string]float64{}
		for k, v := range p.Throttle {
			out.Throttle[k] = v
		}
		for k, v := range q.Throttle {
			if old, ok := out.Throttle[k]; !ok || v < old {
				out.Throttle[k] = v
			}
		}
	}
	return out
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

// Describe says what p does, in English and Chinese.
func (p Posture) Describe() (string, string) {
	var en, zh []string
	switch p.Level {
	case Normal:
		en, zh = append(en, "normal service"), append(zh, "正常服务")
	case Level1:
		scope, scopeZH := "all questions", "全部问题"
		if !p.All {
			var parts []string
			parts = append(parts, p.Categories...)
			parts = append(parts, p.Intents...)
			scope, scopeZH = strings.Join(parts, ", "), "「"+strings.Join(parts, "、")+"」"
		}
		if p.Human {
			en, zh = append(en, "level 1: "+scope+" handed to humans"), append(zh, "一级："+scopeZH+"转人工处理")
		} else {
			en, zh = append(en, "level 1: fallback flow for "+scope), append(zh, "一级："+scopeZH+"走兜底流程")
		}
	case Level2:
		en, zh = append(en, "level 2: last good knowledge release, bot for VIP customers only"), append(zh, "二级：回滚至上一个正常知识库版本，机器人仅服务 VIP 客户")
	case Level3:
		en, zh = append(en, "level 3: disaster recovery, essential answers only"), append(zh, "三级：灾备模式，仅提供基础应答")
	}
	for _, src := range slices.Sorted(maps.Keys(p.Throttle)) { // one posture, one text
		r := p.Throttle[src]
		en = append(en, fmt.Sprintf("source %s limited to %.1f msg/s", src, r))
		zh = append(zh, fmt.Sprintf("来源 %s 限流为每秒 %.1f 条", src, r))
	}
	return strings.Join(en, "; "), strings.Join(zh, "；")
}

// PublicDescribe says what p does as the public status page may: the
// scope's categories, but not the intents' ids nor the names of throttled
// sources (a partner's name, an address), which are the operators'.
func (p Posture) PublicDescribe() (string, string) {
	q := p
	q.Intents = nil
	some := !p.All && len(q.Categories) == 0 && len(p.Intents) > 0
	if some {
		q.All = true // worded as "some questions" below
	}
	q.Throttle = nil
	en, zh := q.Describe()
	if some {
		en, zh = strings.Replace(en, "all questions", "some questions", 1), strings.Replace(zh, "全部问题", "部分问题", 1)
	}
	if len(p.Throttle) > 0 {
		if en == "normal service" {
			en, zh = "", ""
		} else {
			en, zh = en+"; ", zh+"；"
		}
		en, zh = en+"traffic from some sources limited", zh+"部分来源的流量受限"
	}
	return en, zh
}

// DefaultNotices are the customer notices of each level, until edited.
var DefaultNotices = map[int]Notice{
	Level1: {ZH: "部分问题暂时由人工客服处理，回复可能稍慢，敬请谅解。", EN: "Some questions are being handled by our staff for now, so replies may be a little slower. Thank you for your patience."},
	Level2: {ZH: "我们的智能客服正在恢复中，您的问题将优先转交人工客服或通过留言处理。", EN: "Our assistant is recovering. Your question will go to our staff, or you can leave a message and we'll get back to you."},
	Level3: {ZH: "系统正在进行故障恢复，目前只能回答常见问题。您的留言不会丢失，我们会尽快回复。", EN: "We're recovering from a technical problem and can only answer common questions right now. Your messages are kept and we'll reply as soon as we can."},
}
