// Package drivetest is an in-memory Google Drive v3 server for tests: the real
// google.golang.org/api/drive/v3 client talks HTTP to it. It implements the endpoints
// the publisher uses (files.get/list/create/update with multipart and resumable
// media upload, downloads, trashing, revisions.update, permissions.list/create/update,
// drives.get) plus an OAuth token endpoint, keeps a My Drive root and shared drives
// so a folder's ancestry can be walked, parses files.list queries for real, and can
// inject failures (status codes, hangs).
package drivetest

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// File is a stored Drive file or folder.
type File struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	MimeType      string            `json:"mimeType"`
	Parents       []string          `json:"parents,omitempty"`
	AppProperties map[string]string `json:"appProperties,omitempty"`
	Md5Checksum   string            `json:"md5Checksum,omitempty"`
	DriveID       string            `json:"driveId,omitempty"`
	Trashed       bool              `json:"trashed"`
	Capabilities  *Capabilities     `json:"capabilities,omitempty"`
	HeadRevision  string            `json:"headRevisionId,omitempty"`
	ModifiedTime  string            `json:"modifiedTime,omitempty"`
	Content       []byte            `json:"-"`
	Permissions   []Permission      `json:"-"`
	Revisions     []Revision        `json:"-"`
	Version       int               `json:"-"` // content writes so far
}

// Revision is one stored version of a file's content.
type Revision struct {
	ID           string `json:"id"`
	KeepForever  bool   `json:"keepForever"`
	Md5Checksum  string `json:"md5Checksum"`
	ModifiedTime string `json:"modifiedTime"`
	Content      []byte `json:"-"`
}

// fileMeta is a create/update body: a pointer tells "trashed": false from no field.
type fileMeta struct {
	File
	Trashed *bool `json:"trashed"`
}

// Capabilities is the part of files.get's capabilities the publisher reads.
type Capabilities struct {
	CanAddChildren bool `json:"canAddChildren"`
}

// Permission is a stored sharing grant.
type Permission struct {
	ID           string `json:"id"`
	Type         string `json:"type"`
	Role         string `json:"role"`
	EmailAddress string `json:"emailAddress,omitempty"`
	Domain       string `json:"domain,omitempty"`
}

// RootID is the ID of the My Drive root folder ("My Drive"), also reachable as "root".
const RootID = "my-drive-root"

// Fault makes matching requests fail. Op is one of files.get, files.download,
// files.list, files.create, files.update, upload.chunk, revisions.update,
// permissions.list, permissions.create, permissions.update, drives.get, token.
type Fault struct {
	Op         string
	UploadType string // if set, only requests with this uploadType ("" matches all)
	Status     int
	Reason     string
	Message    string
	RetryAfter string
	Hang       time.Duration // wait this long before answering (client timeouts)
	HangAfter  time.Duration // handle the request, then wait this long before answering
	Times      int           // requests affected; 0 means 1
	Body       string        // raw body instead of a Drive error (token endpoint errors)
}

// Request is one served request, for assertions.
type Request struct {
	Op         string
	Method     string
	Query      string // files.list q
	UploadType string
	Params     map[string]string
}

// Server is the fake. Set fields before the first request.
type Server struct {
	*httptest.Server

	// MaxPageSize caps files.list pages so pagination is exercised.
	MaxPageSize int
	// AcceptTokens are bearer tokens accepted besides the ones /token issued.
	AcceptTokens []string
	// RefreshTokens are the refresh tokens /token accepts; others get invalid_grant.
	RefreshTokens []string

	mu       sync.Mutex
	files    map[string]*File
	drives   map[string]string // shared drive ID -> name
	nextID   int
	issued   map[string]bool
	faults   []*Fault
	sessions map[string]*session
	requests []Request
}

type session struct {
	fileID   string // "" for a create
	meta     File
	mimeType string
	data     []byte
}

// New starts a server. Call Close when done.
func New() *Server {
	s := &Server{files: map[string]*File{}, drives: map[string]string{}, issued: map[string]bool{}, sessions: map[string]*session{}}
	s.files[RootID] = &File{ID: RootID, Name: "My Drive", MimeType: "application/vnd.google-apps.folder", AppProperties: map[string]string{}, Capabilities: &Capabilities{CanAddChildren: true}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// AddDrive registers a shared drive. Its top-level folders are added with
// AddFolder(id, name, driveID, driveID, ...): like on Drive, their parent is the
// drive's ID.
func (s *Server) AddDrive(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drives[id] = name
}

// Endpoint is the value for option.WithEndpoint.
func (s *Server) Endpoint() string { return s.URL + "/drive/v3/" }

// TokenURL is the OAuth token endpoint.
func (s *Server) TokenURL() string { return s.URL + "/token" }

// AddFolder stores a folder. driveID != "" puts it on a shared drive; parent ""
// gives it no visible parent, as a folder someone else shared with the caller;
// RootID puts it in My Drive.
func (s *Server) AddFolder(id, name, parent, driveID string, writable bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &File{ID: id, Name: name, MimeType: "application/vnd.google-apps.folder", DriveID: driveID, AppProperties: map[string]string{}, Capabilities: &Capabilities{CanAddChildren: writable}}
	if parent != "" {
		f.Parents = []string{parent}
	}
	s.files[id] = f
}

// AddFile stores a file as if someone had uploaded it.
func (s *Server) AddFile(name, parent, mimeType string, content []byte, props map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &File{Name: name, Parents: []string{parent}, MimeType: mimeType, AppProperties: props}
	s.setContent(f, content)
	return s.store(f)
}

// Fail queues a fault.
func (s *Server) Fail(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times == 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// Files returns copies of the stored files whose parent is parent ("" = all).
func (s *Server) Files(parent string) []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []File
	for _, f := range s.files {
		if f.ID == RootID {
			continue
		}
		if parent == "" || (len(f.Parents) > 0 && f.Parents[0] == parent) {
			out = append(out, *f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Lookup finds the file at a slash path below folder root, e.g. "notebooks/x.ipynb".
func (s *Server) Lookup(root, rel string) (File, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := root
	var found *File
	for _, part := range strings.Split(rel, "/") {
		found = nil
		for _, f := range s.sortedLocked() {
			if len(f.Parents) > 0 && f.Parents[0] == cur && f.Name == part && !f.Trashed {
				if found != nil {
					panic(fmt.Sprintf("drivetest: two files named %q in %s", part, cur))
				}
				found = f
			}
		}
		if found == nil {
			return File{}, false
		}
		cur = found.ID
	}
	return *found, true
}

// Requests returns the served requests so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count counts served requests with op (and uploadType, if not empty).
func (s *Server) Count(op, uploadType string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Op == op && (uploadType == "" || r.UploadType == uploadType) {
			n++
		}
	}
	return n
}

func (s *Server) sortedLocked() []*File {
	out := make([]*File, 0, len(s.files))
	for _, f := range s.files {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Server) store(f *File) string {
	s.nextID++
	f.ID = fmt.Sprintf("f%04d", s.nextID)
	if f.AppProperties == nil {
		f.AppProperties = map[string]string{}
	}
	if f.MimeType == "application/vnd.google-apps.folder" {
		f.Capabilities = &Capabilities{CanAddChildren: true}
	}
	if len(f.Parents) > 0 {
		if p, ok := s.files[f.Parents[0]]; ok {
			f.DriveID = p.DriveID
		}
	}
	s.files[f.ID] = f
	return f.ID
}

// setContent stores new content as a new head revision, as Drive does.
func (s *Server) setContent(f *File, b []byte) {
	f.Content = append([]byte(nil), b...)
	sum := md5.Sum(b)
	f.Md5Checksum = hex.EncodeToString(sum[:])
	f.Version++
	s.nextID++
	f.ModifiedTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(s.nextID) * time.Minute).Format(time.RFC3339)
	rev := Revision{ID: fmt.Sprintf("rev%d", s.nextID), Md5Checksum: f.Md5Checksum, ModifiedTime: f.ModifiedTime, Content: f.Content}
	f.Revisions = append(f.Revisions, rev)
	f.HeadRevision = rev.ID
}

// SetContent replaces a file's content as a person would, in the Drive UI or by
// saving in Colab: a new revision, and the app properties left as they were.
func (s *Server) SetContent(id string, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setContent(s.files[id], b)
}

// Trash moves a file or folder to the trash, as a person would.
func (s *Server) Trash(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trash(s.files[id])
}

// trash marks f and, for a folder, everything below it, as Drive hides a trashed
// folder's contents with it.
func (s *Server) trash(f *File) {
	f.Trashed = true
	if f.MimeType != "application/vnd.google-apps.folder" {
		return
	}
	for _, c := range s.files {
		if len(c.Parents) > 0 && c.Parents[0] == f.ID && !c.Trashed {
			s.trash(c)
		}
	}
}

// File returns a copy of the stored file with id.
func (s *Server) File(id string) (File, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[id]
	if !ok {
		return File{}, false
	}
	return *f, true
}

var (
	fileRE   = regexp.MustCompile(`^/drive/v3/files/([^/]+)$`)
	upRE     = regexp.MustCompile(`^/upload/drive/v3/files/([^/]+)$`)
	permsRE  = regexp.MustCompile(`^/drive/v3/files/([^/]+)/permissions$`)
	permRE   = regexp.MustCompile(`^/drive/v3/files/([^/]+)/permissions/([^/]+)$`)
	revRE    = regexp.MustCompile(`^/drive/v3/files/([^/]+)/revisions/([^/]+)$`)
	drivesRE = regexp.MustCompile(`^/drive/v3/drives/([^/]+)$`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	op := ""
	var id, sub string
	switch {
	case r.URL.Path == "/token" && r.Method == http.MethodPost:
		op = "token"
	case q.Get("upload_id") != "":
		op = "upload.chunk"
	case r.URL.Path == "/drive/v3/files" && r.Method == http.MethodGet:
		op = "files.list"
	case (r.URL.Path == "/drive/v3/files" || r.URL.Path == "/upload/drive/v3/files") && r.Method == http.MethodPost:
		op = "files.create"
	case permsRE.MatchString(r.URL.Path) && r.Method == http.MethodPost:
		op, id = "permissions.create", permsRE.FindStringSubmatch(r.URL.Path)[1]
	case permsRE.MatchString(r.URL.Path) && r.Method == http.MethodGet:
		op, id = "permissions.list", permsRE.FindStringSubmatch(r.URL.Path)[1]
	case permRE.MatchString(r.URL.Path) && r.Method == http.MethodPatch:
		m := permRE.FindStringSubmatch(r.URL.Path)
		op, id, sub = "permissions.update", m[1], m[2]
	case revRE.MatchString(r.URL.Path) && r.Method == http.MethodPatch:
		m := revRE.FindStringSubmatch(r.URL.Path)
		op, id, sub = "revisions.update", m[1], m[2]
	case drivesRE.MatchString(r.URL.Path) && r.Method == http.MethodGet:
		op, id = "drives.get", drivesRE.FindStringSubmatch(r.URL.Path)[1]
	case fileRE.MatchString(r.URL.Path) && r.Method == http.MethodGet && q.Get("alt") == "media":
		op, id = "files.download", fileRE.FindStringSubmatch(r.URL.Path)[1]
	case fileRE.MatchString(r.URL.Path) && r.Method == http.MethodGet:
		op, id = "files.get", fileRE.FindStringSubmatch(r.URL.Path)[1]
	case (fileRE.MatchString(r.URL.Path) || upRE.MatchString(r.URL.Path)) && r.Method == http.MethodPatch:
		op = "files.update"
		if m := fileRE.FindStringSubmatch(r.URL.Path); m != nil {
			id = m[1]
		} else {
			id = upRE.FindStringSubmatch(r.URL.Path)[1]
		}
	default:
		driveError(w, http.StatusNotFound, "notFound", "no such endpoint "+r.Method+" "+r.URL.Path)
		return
	}

	s.mu.Lock()
	params := map[string]string{}
	for k := range q {
		params[k] = q.Get(k)
	}
	s.requests = append(s.requests, Request{Op: op, Method: r.Method, Query: q.Get("q"), UploadType: q.Get("uploadType"), Params: params})
	var fault *Fault
	for _, f := range s.faults {
		if f.Op == op && f.Times > 0 && (f.UploadType == "" || f.UploadType == q.Get("uploadType")) {
			f.Times--
			fault = f
			break
		}
	}
	s.mu.Unlock()

	if fault != nil && fault.HangAfter > 0 {
		// The write lands but the client times out first: the retry must find it.
		rec := httptest.NewRecorder()
		s.handle(rec, r, op, id, sub)
		select {
		case <-time.After(fault.HangAfter):
		case <-r.Context().Done():
			return
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		return
	}
	if fault != nil {
		if fault.Hang > 0 {
			select {
			case <-time.After(fault.Hang):
			case <-r.Context().Done():
				return
			}
		}
		if fault.Status != 0 {
			io.Copy(io.Discard, r.Body)
			if fault.RetryAfter != "" {
				w.Header().Set("Retry-After", fault.RetryAfter)
			}
			if fault.Body != "" {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(fault.Status)
				io.WriteString(w, fault.Body)
				return
			}
			msg := fault.Message
			if msg == "" {
				msg = http.StatusText(fault.Status)
			}
			driveError(w, fault.Status, fault.Reason, msg)
			return
		}
	}
	s.handle(w, r, op, id, sub)
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, op, id, sub string) {
	q := r.URL.Query()
	if op == "token" {
		s.token(w, r)
		return
	}
	if !s.authorized(r) {
		driveError(w, http.StatusUnauthorized, "authError", "Invalid Credentials")
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "root" && strings.HasPrefix(op, "files.") {
		id = RootID
	}
	switch op {
	case "files.get":
		f, ok := s.visible(id, q)
		if !ok {
			driveError(w, http.StatusNotFound, "notFound", "File not found: "+id+".")
			return
		}
		writeJSON(w, f)
	case "files.download":
		f, ok := s.visible(id, q)
		if !ok {
			driveError(w, http.StatusNotFound, "notFound", "File not found: "+id+".")
			return
		}
		w.Header().Set("Content-Type", f.MimeType)
		w.Write(f.Content)
	case "drives.get":
		name, ok := s.drives[id]
		if !ok {
			driveError(w, http.StatusNotFound, "notFound", "Shared drive not found: "+id)
			return
		}
		writeJSON(w, map[string]string{"id": id, "name": name, "kind": "drive#drive"})
	case "revisions.update":
		f, ok := s.visible(id, q)
		if !ok {
			driveError(w, http.StatusNotFound, "notFound", "File not found: "+id+".")
			return
		}
		var body struct {
			KeepForever *bool `json:"keepForever"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			driveError(w, http.StatusBadRequest, "badRequest", err.Error())
			return
		}
		for i := range f.Revisions {
			if f.Revisions[i].ID == sub {
				if body.KeepForever != nil {
					f.Revisions[i].KeepForever = *body.KeepForever
				}
				writeJSON(w, f.Revisions[i])
				return
			}
		}
		driveError(w, http.StatusNotFound, "notFound", "Revision not found: "+sub+".")
	case "permissions.list":
		f, ok := s.visible(id, q)
		if !ok {
			driveError(w, http.StatusNotFound, "notFound", "File not found: "+id+".")
			return
		}
		writeJSON(w, map[string]any{"permissions": append([]Permission{}, f.Permissions...)})
	case "permissions.update":
		f, p, ok := s.permissionRequest(w, r, id, q)
		if !ok {
			return
		}
		for i := range f.Permissions {
			if f.Permissions[i].ID == sub {
				if p.Role != "" {
					f.Permissions[i].Role = p.Role
				}
				writeJSON(w, f.Permissions[i])
				return
			}
		}
		driveError(w, http.StatusNotFound, "notFound", "Permission not found: "+sub+".")
	case "files.list":
		s.list(w, q)
	case "files.create":
		s.create(w, r, q)
	case "files.update":
		s.update(w, r, q, id)
	case "upload.chunk":
		s.chunk(w, r, q.Get("upload_id"))
	case "permissions.create":
		f, p, ok := s.permissionRequest(w, r, id, q)
		if !ok {
			return
		}
		if (p.Type == "user" || p.Type == "group") && !strings.Contains(p.EmailAddress, "@") {
			driveError(w, http.StatusBadRequest, "invalidSharingRequest", "Bad Request. User message: \"A valid email address is required.\"")
			return
		}
		// Stored even when an equal grant exists, so a client that duplicates is caught.
		p.ID = fmt.Sprintf("perm%d", len(f.Permissions)+1)
		f.Permissions = append(f.Permissions, p)
		writeJSON(w, p)
	}
}

// permissionRequest finds the file a permissions call names and decodes the Permission in its
// body; when either fails it has answered (404, 400) and ok is false.
func (s *Server) permissionRequest(w http.ResponseWriter, r *http.Request, id string, q map[string][]string) (*File, Permission, bool) {
	var p Permission
	f, ok := s.visible(id, q)
	if !ok {
		driveError(w, http.StatusNotFound, "notFound", "File not found: "+id+".")
		return nil, p, false
	}
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		driveError(w, http.StatusBadRequest, "badRequest", err.Error())
		return nil, p, false
	}
	return f, p, true
}

func (s *Server) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.issued[tok] {
		return true
	}
	for _, t := range s.AcceptTokens {
		if t == tok {
			return true
		}
	}
	return false
}

// visible mimics Drive hiding shared-drive items from callers that did not say
// supportsAllDrives=true.
func (s *Server) visible(id string, q map[string][]string) (*File, bool) {
	f, ok := s.files[id]
	if !ok {
		return nil, false
	}
	if f.DriveID != "" && first(q, "supportsAllDrives") != "true" {
		return nil, false
	}
	return f, true
}

func first(q map[string][]string, k string) string {
	if v := q[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "refresh_token":
		okTok := false
		s.mu.Lock()
		for _, t := range s.RefreshTokens {
			okTok = okTok || t == r.PostForm.Get("refresh_token")
		}
		s.mu.Unlock()
		if !okTok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`)
			return
		}
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		if strings.Count(r.PostForm.Get("assertion"), ".") != 2 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`)
			return
		}
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"unsupported_grant_type"}`)
		return
	}
	s.mu.Lock()
	s.nextID++
	tok := fmt.Sprintf("ya29.test-%d", s.nextID)
	s.issued[tok] = true
	s.mu.Unlock()
	writeJSON(w, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
}

func (s *Server) list(w http.ResponseWriter, q map[string][]string) {
	pred, err := parseQuery(first(q, "q"))
	if err != nil {
		driveError(w, http.StatusBadRequest, "invalid", "Invalid Value: q: "+err.Error())
		return
	}
	allDrives := first(q, "includeItemsFromAllDrives") == "true"
	if first(q, "corpora") == "drive" && (first(q, "driveId") == "" || !allDrives || first(q, "supportsAllDrives") != "true") {
		driveError(w, http.StatusBadRequest, "invalid", "corpora=drive needs driveId, includeItemsFromAllDrives=true and supportsAllDrives=true")
		return
	}
	var match []*File
	for _, f := range s.sortedLocked() {
		if f.DriveID != "" && !allDrives {
			continue
		}
		if d := first(q, "driveId"); d != "" && f.DriveID != d {
			continue
		}
		if pred(f) {
			match = append(match, f)
		}
	}
	size := 100
	if v, err := strconv.Atoi(first(q, "pageSize")); err == nil && v > 0 {
		size = v
	}
	if s.MaxPageSize > 0 && size > s.MaxPageSize {
		size = s.MaxPageSize
	}
	start := 0
	if t := first(q, "pageToken"); t != "" {
		start, err = strconv.Atoi(strings.TrimPrefix(t, "page-"))
		if err != nil || start > len(match) {
			driveError(w, http.StatusBadRequest, "invalid", "Invalid Value: pageToken")
			return
		}
	}
	end := min(start+size, len(match))
	out := map[string]any{"files": match[start:end]}
	if end < len(match) {
		out["nextPageToken"] = fmt.Sprintf("page-%d", end)
	}
	writeJSON(w, out)
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, q map[string][]string) {
	ut := first(q, "uploadType")
	meta, content, ok := s.readRequest(w, r, ut, "")
	if !ok {
		return
	}
	if !s.parentWritable(w, meta.Parents, q) || !checkProps(w, meta.File) {
		return
	}
	f := &File{Name: meta.Name, MimeType: meta.MimeType, Parents: meta.Parents, AppProperties: meta.AppProperties}
	if ut != "" {
		s.setContent(f, content)
	}
	s.store(f)
	writeJSON(w, f)
}

func (s *Server) parentWritable(w http.ResponseWriter, parents []string, q map[string][]string) bool {
	if len(parents) != 1 {
		driveError(w, http.StatusBadRequest, "badRequest", "exactly one parent expected")
		return false
	}
	p, ok := s.visible(parents[0], q)
	if !ok {
		driveError(w, http.StatusNotFound, "notFound", "File not found: "+parents[0]+".")
		return false
	}
	if p.Capabilities != nil && !p.Capabilities.CanAddChildren {
		driveError(w, http.StatusForbidden, "insufficientFilePermissions", "The user does not have sufficient permissions for this file.")
		return false
	}
	return true
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, q map[string][]string, id string) {
	f, ok := s.visible(id, q)
	if !ok {
		driveError(w, http.StatusNotFound, "notFound", "File not found: "+id+".")
		return
	}
	ut := first(q, "uploadType")
	meta, content, ok := s.readRequest(w, r, ut, id)
	if !ok {
		return
	}
	if !checkProps(w, meta.File) {
		return
	}
	if len(meta.Parents) > 0 {
		driveError(w, http.StatusBadRequest, "fieldNotWritable", "The resource body includes fields which are not directly writable: parents (use addParents).")
		return
	}
	applyMeta(f, meta.File)
	if meta.Trashed != nil {
		if *meta.Trashed {
			s.trash(f)
		} else {
			f.Trashed = false
		}
	}
	if ut != "" {
		s.setContent(f, content)
	}
	writeJSON(w, f)
}

// readRequest reads a create/update body by upload type: metadata only, multipart
// (metadata + media), or the start of a resumable session (answered here; ok is false).
func (s *Server) readRequest(w http.ResponseWriter, r *http.Request, ut, id string) (meta fileMeta, content []byte, ok bool) {
	switch ut {
	case "":
		if err := json.NewDecoder(r.Body).Decode(&meta); err != nil {
			driveError(w, http.StatusBadRequest, "badRequest", err.Error())
			return meta, nil, false
		}
	case "multipart":
		var err error
		if meta, content, err = readMultipart(r); err != nil {
			driveError(w, http.StatusBadRequest, "badRequest", err.Error())
			return meta, nil, false
		}
	case "resumable":
		s.startSession(w, r, id)
		return meta, nil, false
	default:
		driveError(w, http.StatusBadRequest, "badRequest", "unknown uploadType "+ut)
		return meta, nil, false
	}
	return meta, content, true
}

// checkProps enforces Drive's 124-byte limit on a property's key plus value.
func checkProps(w http.ResponseWriter, meta File) bool {
	for k, v := range meta.AppProperties {
		if len(k)+len(v) > 124 {
			driveError(w, http.StatusBadRequest, "badRequest", "The size of the property "+k+" exceeds 124 bytes.")
			return false
		}
	}
	return true
}

func applyMeta(f *File, meta File) {
	if meta.Name != "" {
		f.Name = meta.Name
	}
	if meta.MimeType != "" {
		f.MimeType = meta.MimeType
	}
	for k, v := range meta.AppProperties {
		f.AppProperties[k] = v
	}
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request, fileID string) {
	var meta File
	if err := json.NewDecoder(r.Body).Decode(&meta); err != nil {
		driveError(w, http.StatusBadRequest, "badRequest", "resumable session metadata: "+err.Error())
		return
	}
	if (fileID == "" && !s.parentWritable(w, meta.Parents, r.URL.Query())) || !checkProps(w, meta) {
		return
	}
	s.nextID++
	uid := fmt.Sprintf("up%d", s.nextID)
	s.sessions[uid] = &session{fileID: fileID, meta: meta, mimeType: r.Header.Get("X-Upload-Content-Type")}
	w.Header().Set("Location", s.URL+r.URL.Path+"?uploadType=resumable&upload_id="+uid)
	w.WriteHeader(http.StatusOK)
}

var rangeRE = regexp.MustCompile(`^bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)$`)

func (s *Server) chunk(w http.ResponseWriter, r *http.Request, uid string) {
	ss, ok := s.sessions[uid]
	if !ok {
		driveError(w, http.StatusNotFound, "notFound", "upload session not found")
		return
	}
	m := rangeRE.FindStringSubmatch(r.Header.Get("Content-Range"))
	if m == nil {
		driveError(w, http.StatusBadRequest, "badRequest", "bad Content-Range "+r.Header.Get("Content-Range"))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if m[1] != "" {
		from, _ := strconv.Atoi(m[1])
		to, _ := strconv.Atoi(m[2])
		if from != len(ss.data) || to-from+1 != len(body) {
			driveError(w, http.StatusBadRequest, "badRequest", fmt.Sprintf("chunk %d-%d does not follow %d bytes received", from, to, len(ss.data)))
			return
		}
		ss.data = append(ss.data, body...)
	}
	if m[3] == "*" || strconv.Itoa(len(ss.data)) != m[3] {
		w.Header().Set("X-Http-Status-Code-Override", "308")
		if len(ss.data) > 0 {
			w.Header().Set("Range", fmt.Sprintf("bytes=0-%d", len(ss.data)-1))
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	delete(s.sessions, uid)
	var f *File
	if ss.fileID != "" {
		f = s.files[ss.fileID]
		applyMeta(f, ss.meta)
	} else {
		f = &File{Name: ss.meta.Name, MimeType: ss.meta.MimeType, Parents: ss.meta.Parents, AppProperties: ss.meta.AppProperties}
		s.store(f)
	}
	s.setContent(f, ss.data)
	writeJSON(w, f)
}

func readMultipart(r *http.Request) (fileMeta, []byte, error) {
	var meta fileMeta
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/related" {
		return meta, nil, fmt.Errorf("multipart upload needs multipart/related, got %q", r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	part, err := mr.NextPart()
	if err != nil {
		return meta, nil, fmt.Errorf("metadata part: %w", err)
	}
	if err := json.NewDecoder(part).Decode(&meta); err != nil {
		return meta, nil, fmt.Errorf("metadata part: %w", err)
	}
	part, err = mr.NextPart()
	if err != nil {
		return meta, nil, fmt.Errorf("media part: %w", err)
	}
	content, err := io.ReadAll(part)
	return meta, content, err
}

func driveError(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"errors": []map[string]string{{"domain": "global", "reason": reason, "message": msg}},
	}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
