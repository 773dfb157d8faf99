// Command generate writes the files of zk_monitor's monitoring mixin
// (deploy/mixin) under a deploy directory: `go generate ./deploy` runs it
// in deploy/.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/zk-monitor/zk_monitor/deploy/mixin"
)

func main() {
	dir := flag.String("dir", ".", "the deploy directory to write the files under")
	config := flag.String("config", "", `JSON object merged into the mixin's _config, e.g. {"zkMonitorSelector": "job=\"zk\""}`)
	flag.Parse()
	files, err := mixin.Generate(*config)
	if err != nil {
		fmt.Fprintf(os.Stderr, "generate: %v\n", err)
		os.Exit(1)
	}
	for _, f := range files {
		path := filepath.Join(*dir, f.Path)
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "generate: %v\n", err)
			os.Exit(1)
		}
		fmt.Println(path)
	}
}
