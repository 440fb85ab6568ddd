package testutil

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// Client talks to a running Steward's REST API over loopback.
type Client struct {
	T    testing.TB
	Base string
	HTTP *http.Client
}

// Message is a message as the API returns it.
type Message struct {
	ID         string   `json:"id"`
	Seq        int64    `json:"seq"`
	Role       string   `json:"role"`
	Text       string   `json:"text"`
	Outcome    string   `json:"outcome"`
	Confidence *float64 `json:"confidence"`
	Generated  bool     `json:"generated"`
	Entry      *struct {
		ID, Category, Title string
	} `json:"entry"`
	Choices []struct {
		EntryID string `json:"entry_id"`
		Title   string `json:"title"`
	} `json:"choices"`
}

// Conversation is a conversation as the API returns it.
type Conversation struct {
	ID       string    `json:"id"`
	Token    string    `json:"token"`
	State    string    `json:"state"`
	Locale   string    `json:"locale"`
	Messages []Message `json:"messages"`
}

// Turn is the answer to a posted message.
type Turn struct {
	State    string    `json:"state"`
	Customer Message   `json:"customer_message"`
	Messages []Message `json:"messages"`
}

// Do sends a request and returns the status and body.
func (c *Client) Do(method, path, token string, body []byte) (int, []byte) {
	c.T.Helper()
	req, err := http.NewRequest(method, c.Base+path, bytes.NewReader(body))
	if err != nil {
		c.T.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		c.T.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// Start creates a conversation in locale.
func (c *Client) Start(locale string) Conversation {
	c.T.Helper()
	status, b := c.Do("POST", "/api/v1/conversations", "", []byte(`{"locale":"`+locale+`"}`))
	if status != http.StatusCreated {
		c.T.Fatalf("create conversation: %d %s", status, b)
	}
	var conv Conversation
	if err := json.Unmarshal(b, &conv); err != nil {
		c.T.Fatal(err)
	}
	return conv
}

// Say posts a customer message and returns the turn.
func (c *Client) Say(conv Conversation, text string) Turn {
	c.T.Helper()
	body, _ := json.Marshal(map[string]string{"text": text})
	status, b := c.Do("POST", "/api/v1/conversations/"+conv.ID+"/messages", conv.Token, body)
	if status != http.StatusOK {
		c.T.Fatalf("say %q: %d %s", text, status, b)
	}
	var t Turn
	if err := json.Unmarshal(b, &t); err != nil {
		c.T.Fatal(err)
	}
	return t
}

// Get returns the whole conversation.
func (c *Client) Get(conv Conversation) Conversation {
	c.T.Helper()
	status, b := c.Do("GET", "/api/v1/conversations/"+conv.ID, conv.Token, nil)
	if status != http.StatusOK {
		c.T.Fatalf("get conversation: %d %s", status, b)
	}
	var out Conversation
	if err := json.Unmarshal(b, &out); err != nil {
		c.T.Fatal(err)
	}
	return out
}
