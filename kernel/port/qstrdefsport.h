// qstrs the port uses from C
// *FORMAT-OFF*
Q(_boot)
