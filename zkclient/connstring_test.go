package zkclient

import (
	"reflect"
	"testing"
)

func TestParseConnectString(t *testing.T) {
	cases := []struct {
		in      string
		want    connectString
		wantErr string
	}{
		{in: "localhost:2181", want: connectString{Servers: []string{"localhost:2181"}}},
		{in: "zk1,zk2:2182", want: connectString{Servers: []string{"zk1:2181", "zk2:2182"}}},
		{in: " zk1:2181 , zk2:2181/apps/zk ", want: connectString{Servers: []string{"zk1:2181", "zk2:2181"}, Chroot: "/apps/zk"}},
		{in: "zk1:2181/", want: connectString{Servers: []string{"zk1:2181"}}},
		{in: "[::1]:2181,[::1]", want: connectString{Servers: []string{"[::1]:2181", "[::1]:2181"}}},
		{in: "", wantErr: "empty ZooKeeper connect string"},
		{in: "zk1:2181,,zk2", wantErr: `connect string "zk1:2181,,zk2": empty server entry`},
		{in: "zk1:0", wantErr: `connect string "zk1:0": server "zk1:0": port must be 1-65535`},
		{in: "zk1:http", wantErr: `connect string "zk1:http": server "zk1:http": port must be 1-65535`},
		{in: ":2181", wantErr: `connect string ":2181": server ":2181" has no host`},
		{in: "zk1:2181/a//b", wantErr: `chroot "/a//b": path must not contain empty segments`},
		{in: "zk1:2181/a/", wantErr: `chroot "/a/": path must not end with "/"`},
		{in: "zk1:2181/a/\x01", wantErr: `chroot "/a/\x01": path must not contain control or reserved characters`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseConnectString(tc.in)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestServersAndChroot(t *testing.T) {
	for _, tt := range []struct{ connect, want string }{
		{"zk1:2181", "zk1:2181"},
		{"zk1", "zk1:2181"},
		{" zk1:2181, zk2:2182 /apps/monitor", "zk1:2181,zk2:2182/apps/monitor"},
		{"zk1:2181/", "zk1:2181"},
		{"[::1]:2181", "[::1]:2181"},
		// Credentials never belong in a connect string (they are flags);
		// if someone puts them there, they are not shown.
		{"monitor@zk1:2181,zk2:2181/x", "zk1:2181,zk2:2181/x"},
		{"monitor:s3cret@zk1:2181", ""},
		{"", ""},
	} {
		t.Run(tt.connect, func(t *testing.T) {
			if got := ServersAndChroot(tt.connect); got != tt.want {
				t.Errorf("ServersAndChroot(%q) = %q, want %q", tt.connect, got, tt.want)
			}
		})
	}
}
