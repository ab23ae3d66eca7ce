package degrade

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTaskTable(t *testing.T) {
	cases := []struct {
		task   Task
		code   byte
		name   string
		prompt int
	}{
		{SR, 's', "sr", 6},
		{Blur, 'b', "blur", 0},
		{Noise, 'n', "noise", 1},
		{JPEG, 'j', "jpeg", 2},
		{Rain, 'r', "rain", 3},
		{Haze, 'h', "haze", 4},
		{LowLight, 'd', "dark", 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.code, c.task.Code())
			require.Equal(t, c.name, c.task.Name())
			require.Equal(t, c.name, c.task.String())
			require.Equal(t, c.prompt, c.task.PromptIndex())
			back, err := TaskFromPromptIndex(c.prompt)
			require.NoError(t, err)
			require.Equal(t, c.task, back)
			p, err := ParseTask(string(c.code))
			require.NoError(t, err)
			require.Equal(t, c.task, p)
			p, err = ParseTask(c.name)
			require.NoError(t, err)
			require.Equal(t, c.task, p)
		})
	}
	require.Equal(t, "sbnjrhd", TaskCodes(AllTasks()))
	_, err := TaskFromPromptIndex(7)
	require.Error(t, err)
	require.Equal(t, -1, Task(0).PromptIndex())
	require.False(t, Task(8).Valid())
}

func TestParseTasks(t *testing.T) {
	cases := []struct {
		in   string
		want string
		bad  bool
	}{
		{in: "sbnjrhd", want: "sbnjrhd"},
		{in: "rjbsnhd", want: "rjbsnhd"},
		{in: "noise", want: "n"},
		{in: "Dark", want: "d"},
		{in: "sr", want: "s"},
		{in: "noise,jpeg", want: "nj"},
		{in: "s, r", want: "sr"},
		{in: "LowLight", want: "d"},
		{in: "", bad: true},
		{in: "ss", bad: true},
		{in: "sx", bad: true},
		{in: "fog", bad: true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			ts, err := ParseTasks(c.in)
			if c.bad {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, TaskCodes(ts))
		})
	}
}

func TestTaskText(t *testing.T) {
	var x Task
	require.NoError(t, x.UnmarshalText([]byte("haze")))
	require.Equal(t, Haze, x)
	b, err := JPEG.MarshalText()
	require.NoError(t, err)
	require.Equal(t, "jpeg", string(b))
	_, err = Task(0).MarshalText()
	require.Error(t, err)
}
