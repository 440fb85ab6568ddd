package app

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/notify"
	"github.com/steward-cs/steward/internal/notify/dingtalk"
	"github.com/steward-cs/steward/internal/notify/email"
	"github.com/steward-cs/steward/internal/notify/feishu"
	"github.com/steward-cs/steward/internal/notify/slack"
	"github.com/steward-cs/steward/internal/notify/webhook"
	"github.com/steward-cs/steward/internal/notify/wecom"
)

// channelFactory makes a channel from a config.Channel's provider
// settings.
type channelFactory func(settings map[string]any, client *http.Client) (notify.Channel, error)

// channelFactories are the notification providers, by config type name.
// Adding one is a line here and its package.
var channelFactories = map[string]channelFactory{
	"webhook":  httpChannel(webhook.New),
	"dingtalk": httpChannel(dingtalk.New),
	"wecom":    httpChannel(wecom.New),
	"feishu":   httpChannel(feishu.New),
	"slack":    httpChannel(slack.New),
	"email":    plainChannel(email.New),
}

// buildChannels makes the configured notification channels, by name.
func buildChannels(cfgs []config.Channel, client *http.Client) (map[string]notify.Channel, error) {
	channels := make(map[string]notify.Channel, len(cfgs))
	for _, c := range cfgs {
		if c.Name == "" {
			return nil, fmt.Errorf("notify channel of type %q: name is required", c.Type)
		}
		if _, dup := channels[c.Name]; dup {
			return nil, fmt.Errorf("notify channel %q: the name is used twice", c.Name)
		}
		factory, ok := channelFactories[c.Type]
		if !ok {
			return nil, fmt.Errorf("notify channel %q: unknown type %q (want one of %s)",
				c.Name, c.Type, strings.Join(slices.Sorted(maps.Keys(channelFactories)), ", "))
		}
		ch, err := factory(c.Settings, client)
		if err != nil {
			return nil, fmt.Errorf("notify channel %q: %w", c.Name, err)
		}
		channels[c.Name] = ch
	}
	return channels, nil
}

// settingsConfig is a provider's Config.
type settingsConfig interface{ Validate() error }

// httpChannel adapts a provider constructor that takes an HTTP client.
func httpChannel[C settingsConfig, T notify.Channel](newChannel func(C, *http.Client) (T, error)) channelFactory {
	return func(settings map[string]any, client *http.Client) (notify.Channel, error) {
		var cfg C
		if err := decodeSettings(settings, &cfg); err != nil {
			return nil, err
		}
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		return newChannel(cfg, client)
	}
}

// plainChannel adapts a provider constructor that needs no HTTP client.
func plainChannel[C settingsConfig, T notify.Channel](newChannel func(C) (T, error)) channelFactory {
	return httpChannel(func(cfg C, _ *http.Client) (T, error) { return newChannel(cfg) })
}

// yamlValue matches a YAML type error's quoted value, which may be a
// secret: "!!str `hunter2`".
var yamlValue = regexp.MustCompile("!!(\\w+)(?: `[^`]*`)?")

// yamlKinds names YAML tags for messages.
var yamlKinds = map[string]string{"str": "text", "int": "a number", "float": "a number", "bool": "true or false",
	"seq": "a list", "map": "a mapping", "null": "nothing"}

// decodeSettings decodes a channel's inline YAML settings into dst,
// refusing fields dst does not have. A value of the wrong type is reported
// by its setting's name, without the value.
func decodeSettings[C any](settings map[string]any, dst *C) error {
	err := decodeYAML(settings, dst)
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	// Line numbers would point into the re-encoded settings: find the
	// setting by decoding each on its own.
	field := ""
	for _, key := range slices.Sorted(maps.Keys(settings)) {
		var probe C
		var kerr *yaml.TypeError
		if errors.As(decodeYAML(map[string]any{key: settings[key]}, &probe), &kerr) {
			te, field = kerr, key+": "
			break
		}
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		if _, rest, ok := strings.Cut(m, ": "); ok && strings.HasPrefix(m, "line ") {
			m = rest
		}
		m = yamlValue.ReplaceAllStringFunc(m, func(v string) string {
			if kind, ok := yamlKinds[yamlValue.FindStringSubmatch(v)[1]]; ok {
				return kind
			}
			return "a value"
		})
		if !strings.HasPrefix(m, "field ") { // "field x not found in type ..." names itself
			m = field + m
		}
		msgs[i] = m
	}
	return errors.New(strings.Join(msgs, "; "))
}

func decodeYAML(settings map[string]any, dst any) error {
	data, err := yaml.Marshal(settings)
	if err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(dst); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
