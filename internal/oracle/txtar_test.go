package oracle

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseArchive(t *testing.T) {
	t.Parallel()
	src := "# a tree\nspec user=a,lport=22\nmain etc/ssh/alt_config\ninvalid\n" +
		"-- etc/ssh/alt_config --\nPort 22\r\nInclude x\n" +
		"-- etc/ssh/x --\nNoNewline yes"
	a := ParseArchive([]byte(src))
	want := &Archive{
		Comment: "# a tree\nspec user=a,lport=22\nmain etc/ssh/alt_config\ninvalid\n",
		Files: map[string][]byte{
			"etc/ssh/alt_config": []byte("Port 22\r\nInclude x\n"),
			"etc/ssh/x":          []byte("NoNewline yes"),
		},
		Order:   []string{"etc/ssh/alt_config", "etc/ssh/x"},
		Specs:   []string{"user=a,lport=22"},
		Main:    "/etc/ssh/alt_config",
		Invalid: true,
	}
	if d := cmp.Diff(want, a); d != "" {
		t.Errorf("ParseArchive mismatch (-want +got):\n%s", d)
	}
}
